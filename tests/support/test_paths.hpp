#pragma once
// Where this build put what tests run: the `warren` binary, plugin folders,
// tools. Force-included into every test object (warren_test_paths) and
// defined once in a generated file (build/tests/test_paths.cpp), so no test
// object holds the checkout's path and ccache shares them across checkouts.

extern "C" {
extern const char warren_test_binary[];
extern const char warren_test_plugin_dir[];
extern const char warren_test_source_dir[];
extern const char warren_test_fixture_plugin_dir[];
extern const char warren_test_tools_dir[];
extern const char warren_test_flood_tool[];
}

#define WARREN_BINARY warren_test_binary
#define WARREN_PLUGIN_DIR warren_test_plugin_dir
#define WARREN_SOURCE_DIR warren_test_source_dir
#define WARREN_TEST_PLUGIN_DIR warren_test_fixture_plugin_dir
#define WARREN_TOOLS_DIR warren_test_tools_dir
#define WARREN_FLOOD_TOOL warren_test_flood_tool
