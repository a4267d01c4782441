#pragma once
// The fixed vocabulary of the NovaDrive ERP: Brazil's 27 states with their sigla, three real cities
// per state, Portuguese first names and surnames, street names, and the vehicle catalogue. Pure
// constant data; thread-safe.

#include <string>
#include <vector>

namespace strata::cli::demo {

struct State {
  std::string name;
  std::string sigla;
  std::vector<std::string> cities;  // exactly kCitiesPerState, the capital first
};

inline constexpr int kCitiesPerState = 3;

// One vehicle model; every model is sold in every trim of vehicle_trims().
struct VehicleModel {
  std::string name;
  std::string type;  // the clean Portuguese type: SUV, Sedã, Hatch, Picape, Elétrico
  int base_price;    // reais, for the entry trim
};

// One trim and its price factor in percent of the model's base price.
struct VehicleTrim {
  std::string name;
  int price_percent;
};

const std::vector<State>& brazil_states();
const std::vector<std::string>& first_names();
const std::vector<std::string>& surnames();
const std::vector<std::string>& street_names();
const std::vector<std::string>& neighbourhoods();
const std::vector<std::string>& dealership_suffixes();
const std::vector<VehicleModel>& vehicle_models();
const std::vector<VehicleTrim>& vehicle_trims();
// Dirty spellings of each clean type as an ERP accumulates them (lower case, upper case, "Sedan").
const std::vector<std::pair<std::string, std::string>>& dirty_vehicle_types();

}  // namespace strata::cli::demo
