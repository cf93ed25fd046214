-- Specs of swrauth.text: redaction, one-line quoting, shell lines.
local text = require "swrauth.text"

describe("text.redactor", function()
  it("replaces every occurrence of every secret", function()
    local r = text.redactor {"KEY1"}
    r:add("SECRET")
    assert.equal("a <redacted> b <redacted><redacted> c", r:redact("a KEY1 b KEY1SECRET c"))
    assert.equal("x <redacted>", r("x SECRET"))
  end)
  it("replaces a longer secret whole before a shorter one inside it", function()
    local r = text.redactor {"abc", "xxabcxx"}
    assert.equal("<redacted> <redacted>", r:redact("xxabcxx abc"))
  end)
  it("treats secrets as plain text, not patterns", function()
    assert.equal("a <redacted> b", text.redact("a %.+ b", {"%.+"}))
  end)
  it("ignores empty and non-string secrets", function()
    local r = text.redactor():add(""):add(nil):add(5)
    assert.equal("text", r:redact("text"))
  end)
end)

describe("text.one_line", function()
  it("shows control characters as escapes, so no line can be forged", function()
    assert.equal("a\\nswrauth: forged\\r\\t\\x1B[2K\\x07\\x7F", text.one_line("a\nswrauth: forged\r\t\27[2K\7\127"))
    assert.equal("plain é", text.one_line("plain é"))
  end)
  it("cuts long text", function()
    assert.equal("abc...", text.one_line("abcdef", 3))
    assert.equal("'ab\\n...'", text.quote("ab\ncd", 3))
  end)
end)

describe("text.command_line", function()
  it("quotes words only when a shell needs it", function()
    assert.equal("docker login -u cn-north-4@AK --password-stdin 127.0.0.1:5000",
                 text.command_line {"docker", "login", "-u", "cn-north-4@AK", "--password-stdin",
                                    "127.0.0.1:5000"})
    assert.equal("echo 'a b' 'it'\\''s' '$X'", text.command_line {"echo", "a b", "it's", "$X"})
  end)
  it("leaves $TMPDIR/... for the shell to expand", function()
    assert.equal('skopeo --dest-authfile "$TMPDIR"/auth.json',
                 text.command_line {"skopeo", "--dest-authfile", "$TMPDIR/auth.json"})
    local h = io.popen("TMPDIR=/t sh -c 'printf %s \"$TMPDIR\"/auth.json'")
    assert.equal("/t/auth.json", h:read("a"))
    h:close()
    assert.equal("'$TMPDIR/a b'", text.command_line {"$TMPDIR/a b"})
  end)
end)
