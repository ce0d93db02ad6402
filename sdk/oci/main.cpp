// husk-oci: the OCI runtime entry point.
#include "sdk/oci/oci_cli.hpp"

int main(int argc, char** argv) { return husk::oci::run_oci_cli(argc, argv); }
