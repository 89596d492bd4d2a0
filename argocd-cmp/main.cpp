#include "argocd-cmp/app.hpp"

int main(int argc, char** argv) {
  return argocd_cmp::run(argc, argv);
}
