#include <iostream>

#include "cli/app.h"

int main(int argc, char** argv) { return strata::cli::run_cli(argc, argv, std::cout, std::cerr); }
