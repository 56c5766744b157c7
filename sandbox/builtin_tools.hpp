#pragma once
// The built-in tools, one factory each (see tools.hpp for how they are used).
#include "sandbox/tools.hpp"

namespace sluice::sandbox {

Tool bash_tool();        // bash_tool.cpp
Tool read_file_tool();   // file_tools.cpp
Tool write_file_tool();  // file_tools.cpp
Tool edit_file_tool();   // file_tools.cpp
Tool list_files_tool();  // list_files_tool.cpp
Tool grep_tool();        // grep_tool.cpp

}  // namespace sluice::sandbox
