std = "lua54"
max_line_length = 120
-- busted's globals, also listed one by one because `luacheck --std lua54`
-- on the command line replaces the std given here.
files["tests/spec"] = {
  std = "+busted",
  read_globals = {
    "describe", "context", "insulate", "expose", "it", "spec", "test", "pending",
    "before_each", "after_each", "setup", "teardown", "lazy_setup", "lazy_teardown",
    "strict_setup", "strict_teardown", "finally", "randomize",
    assert = {other_fields = true}, spy = {other_fields = true},
    stub = {other_fields = true}, mock = {other_fields = true},
  },
}
files["bin/swrauth"] = {}
