#include "flux-source/app.hpp"

int main(int argc, char** argv) {
  return flux_source::run(argc, argv);
}
