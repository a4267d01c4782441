#include "cli/demo/erp_vocabulary.h"

namespace strata::cli::demo {

const std::vector<State>& brazil_states() {
  static const std::vector<State> kStates = {
      {"Acre", "AC", {"Rio Branco", "Cruzeiro do Sul", "Sena Madureira"}},
      {"Alagoas", "AL", {"Maceió", "Arapiraca", "Palmeira dos Índios"}},
      {"Amapá", "AP", {"Macapá", "Santana", "Laranjal do Jari"}},
      {"Amazonas", "AM", {"Manaus", "Parintins", "Itacoatiara"}},
      {"Bahia", "BA", {"Salvador", "Feira de Santana", "Vitória da Conquista"}},
      {"Ceará", "CE", {"Fortaleza", "Caucaia", "Juazeiro do Norte"}},
      {"Distrito Federal", "DF", {"Brasília", "Taguatinga", "Ceilândia"}},
      {"Espírito Santo", "ES", {"Vitória", "Vila Velha", "Serra"}},
      {"Goiás", "GO", {"Goiânia", "Aparecida de Goiânia", "Anápolis"}},
      {"Maranhão", "MA", {"São Luís", "Imperatriz", "Caxias"}},
      {"Mato Grosso", "MT", {"Cuiabá", "Várzea Grande", "Rondonópolis"}},
      {"Mato Grosso do Sul", "MS", {"Campo Grande", "Dourados", "Três Lagoas"}},
      {"Minas Gerais", "MG", {"Belo Horizonte", "Uberlândia", "Contagem"}},
      {"Pará", "PA", {"Belém", "Ananindeua", "Santarém"}},
      {"Paraíba", "PB", {"João Pessoa", "Campina Grande", "Santa Rita"}},
      {"Paraná", "PR", {"Curitiba", "Londrina", "Maringá"}},
      {"Pernambuco", "PE", {"Recife", "Jaboatão dos Guararapes", "Olinda"}},
      {"Piauí", "PI", {"Teresina", "Parnaíba", "Picos"}},
      {"Rio de Janeiro", "RJ", {"Rio de Janeiro", "Niterói", "Duque de Caxias"}},
      {"Rio Grande do Norte", "RN", {"Natal", "Mossoró", "Parnamirim"}},
      {"Rio Grande do Sul", "RS", {"Porto Alegre", "Caxias do Sul", "Pelotas"}},
      {"Rondônia", "RO", {"Porto Velho", "Ji-Paraná", "Ariquemes"}},
      {"Roraima", "RR", {"Boa Vista", "Rorainópolis", "Caracaraí"}},
      {"Santa Catarina", "SC", {"Florianópolis", "Joinville", "Blumenau"}},
      {"São Paulo", "SP", {"São Paulo", "Campinas", "Santos"}},
      {"Sergipe", "SE", {"Aracaju", "Nossa Senhora do Socorro", "Lagarto"}},
      {"Tocantins", "TO", {"Palmas", "Araguaína", "Gurupi"}},
  };
  return kStates;
}

const std::vector<std::string>& first_names() {
  static const std::vector<std::string> kNames = {
      "Ana",     "Beatriz", "Bruno",    "Camila",   "Carlos",  "Daniela", "Diego",    "Eduarda", "Felipe",
      "Fernanda", "Gabriel", "Giovana", "Gustavo",  "Helena",  "Igor",    "Isabela",  "João",    "Juliana",
      "Larissa", "Leonardo", "Letícia", "Lucas",    "Luana",   "Marcos",  "Mariana",  "Matheus", "Natália",
      "Otávio",  "Paula",   "Pedro",    "Rafael",   "Renata",  "Rodrigo", "Sabrina",  "Thiago",  "Vanessa",
      "Vinícius", "Yasmin", "Antônio",  "Francisca", "José",   "Maria",   "Raimundo", "Sebastião", "Adriana",
      "Cláudio", "Débora",  "Márcio",   "Patrícia", "Sérgio",
  };
  return kNames;
}

const std::vector<std::string>& surnames() {
  static const std::vector<std::string> kNames = {
      "Silva",   "Santos",   "Oliveira", "Souza",    "Rodrigues", "Ferreira", "Alves",    "Pereira",  "Lima",
      "Gomes",   "Costa",    "Ribeiro",  "Martins",  "Carvalho",  "Almeida",  "Lopes",    "Soares",   "Fernandes",
      "Vieira",  "Barbosa",  "Rocha",    "Dias",     "Nascimento", "Andrade", "Moreira",  "Nunes",    "Marques",
      "Machado", "Mendes",   "Freitas",  "Cardoso",  "Ramos",     "Gonçalves", "Santana", "Teixeira", "Araújo",
      "Pinto",   "Correia",  "Cavalcanti", "Monteiro", "Moura",   "Batista",  "Castro",   "Campos",   "Brandão",
  };
  return kNames;
}

const std::vector<std::string>& street_names() {
  static const std::vector<std::string> kStreets = {
      "Rua das Flores",          "Rua Sete de Setembro",  "Avenida Brasil",          "Rua XV de Novembro",
      "Avenida Getúlio Vargas",  "Rua Tiradentes",        "Rua Dom Pedro II",        "Avenida Presidente Vargas",
      "Rua Barão do Rio Branco", "Rua São João",          "Avenida Santos Dumont",   "Rua Marechal Deodoro",
      "Rua Rui Barbosa",         "Avenida Paulista",      "Rua Duque de Caxias",     "Rua José Bonifácio",
      "Travessa da Paz",         "Rua do Comércio",       "Avenida Beira Mar",       "Rua Castro Alves",
      "Alameda dos Ipês",        "Rua Padre Anchieta",    "Avenida Independência",   "Rua Machado de Assis",
  };
  return kStreets;
}

const std::vector<std::string>& neighbourhoods() {
  static const std::vector<std::string> kNeighbourhoods = {
      "Centro", "Jardim América", "Vila Nova", "Boa Vista", "Santa Cruz", "São José", "Liberdade",
      "Bela Vista", "Jardim Europa", "Parque das Nações", "Cidade Nova", "Alto da Glória",
  };
  return kNeighbourhoods;
}

const std::vector<std::string>& dealership_suffixes() {
  static const std::vector<std::string> kSuffixes = {"Centro", "Norte",   "Sul",     "Leste",
                                                     "Oeste",  "Shopping", "Avenida", "Premium"};
  return kSuffixes;
}

const std::vector<VehicleModel>& vehicle_models() {
  static const std::vector<VehicleModel> kModels = {
      {"Aurora", "Hatch", 72000},   {"Tucano", "Hatch", 64000},    {"Caju", "Hatch", 58000},
      {"Brisa", "Sedã", 98000},     {"Guará", "Sedã", 112000},     {"Caravela", "SUV", 145000},
      {"Ipê", "SUV", 118000},       {"Mandacaru", "SUV", 172000},  {"Jangada", "Picape", 189000},
      {"Sertão", "Picape", 132000}, {"Vento", "Elétrico", 210000}, {"Raio", "Elétrico", 165000},
  };
  return kModels;
}

const std::vector<VehicleTrim>& vehicle_trims() {
  static const std::vector<VehicleTrim> kTrims = {
      {"1.0", 100}, {"1.0 Turbo", 112}, {"Comfort", 125}, {"Premium", 145}, {"Top", 170},
  };
  return kTrims;
}

const std::vector<std::pair<std::string, std::string>>& dirty_vehicle_types() {
  static const std::vector<std::pair<std::string, std::string>> kDirty = {
      {"SUV", "suv"},     {"Sedã", "SEDÃ"},       {"Sedã", "Sedan"},  {"Hatch", "hatch "},
      {"Hatch", "HATCH"}, {"Picape", "picape"},   {"Elétrico", "eletrico"},
  };
  return kDirty;
}

}  // namespace strata::cli::demo
