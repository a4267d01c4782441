# strata_existing_modules(OUT m1 m2 ...): the strata_<m> targets among m1… that exist already.
# Lets a module build while a module it will use is still being written.
function(strata_existing_modules out)
  set(result)
  foreach(m IN LISTS ARGN)
    if(TARGET strata_${m})
      list(APPEND result strata_${m})
    endif()
  endforeach()
  set(${out} ${result} PARENT_SCOPE)
endfunction()
