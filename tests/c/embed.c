/*
** embed.c: a C host that embeds Lua, links swrauth statically from
** libswrauth.a and opens it with luaopen_swrauth itself.
*/
#include <stdio.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

int luaopen_swrauth(lua_State *L);

int main(void) {
  lua_State *L = luaL_newstate();
  int n = 0, failed = 0;
  luaL_openlibs(L);
  luaL_requiref(L, "swrauth", luaopen_swrauth, 0);
  lua_pop(L, 1);
  if (luaL_dostring(L,
        "local s = require 'swrauth'\n"
        "return s.derive('QTWAOYTTINDUT2QVKYUC', 'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc')") != 0) {
    printf("not ok 1 - derive from an embedding host: %s\n", lua_tostring(L, -1));
    failed++;
  } else {
    const char *k = lua_tostring(L, -1);
    int good = k && strcmp(k, "89aca1198a970e4360203d71cdaa80cfc13ecd55ee84409719e88162d139ef34") == 0;
    printf("%sok 1 - derive from an embedding host\n", good ? "" : "not ");
    failed += !good;
  }
  n++;
  lua_close(L);
  printf("ok 2 - lua_close frees the module\n");
  n++;
  printf("1..%d\n", n);
  return failed != 0;
}
