# SPDX-License-Identifier: MIT
# cmake -DINPUT=file -DOUTPUT=file.cpp -P embed.cmake: writes INPUT's bytes as the C++ array kDemoGuest.
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" len)
math(EXPR size "${len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" body "${body}")
file(WRITE "${OUTPUT}" "// Generated from ${INPUT}; do not edit.\n#include \"tools/strobe/demo_guest.h\"\nnamespace strobe::tools {\nconst uint8_t kDemoGuest[] = {\n${body}\n};\nconst size_t kDemoGuestSize = ${size};\n}  // namespace strobe::tools\n")
