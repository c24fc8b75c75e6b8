# warren_add_plugin(NAME KIND SOURCES ... [LIBRARIES ...] [NO_INSTALL])
#
# Builds libwarren-<KIND>-<NAME>.so as a loadable module against warren::sdk,
# with hidden visibility (only the descriptor is exported). In warren's own
# tree it lands beside the other bundled plugins; out of tree, in the build
# directory (point `warren --plugin-dir` at it).
function(warren_add_plugin NAME KIND)
  cmake_parse_arguments(ARG "NO_INSTALL" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  set(valid_kinds transport discovery backend policy)
  if(NOT KIND IN_LIST valid_kinds)
    message(FATAL_ERROR "warren_add_plugin(${NAME}): KIND must be one of ${valid_kinds}, not '${KIND}'")
  endif()
  set(target "warren-${KIND}-${NAME}")
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE warren::sdk ${ARG_LIBRARIES})
  if(TARGET warren_warnings)
    target_link_libraries(${target} PRIVATE warren_warnings)
  endif()
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    OUTPUT_NAME "warren-${KIND}-${NAME}"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  elseif(DEFINED WARREN_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${WARREN_PLUGIN_OUTPUT_DIR}")
  endif()
  if(NOT ARG_NO_INSTALL AND DEFINED WARREN_PLUGIN_INSTALL_DIR)
    # In warren's tree: the warren package's component (cmake/WarrenPackaging.cmake).
    set(component)
    if(DEFINED WARREN_PLUGIN_INSTALL_COMPONENT)
      set(component COMPONENT "${WARREN_PLUGIN_INSTALL_COMPONENT}")
    endif()
    install(TARGETS ${target} LIBRARY DESTINATION "${WARREN_PLUGIN_INSTALL_DIR}" ${component})
  endif()
endfunction()
