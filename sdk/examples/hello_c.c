/* The smallest libhusk program in C: boot a sandbox, run a command in it, print what it said.
 * Its exit status is the command's, docker-style. */
#ifdef HUSK_EXAMPLE_IN_TREE
#include "husk.h"
#else
#include <husk/husk.h>
#endif

#include <stdio.h>

int main(void)
{
    husk_sandbox_config config = { 0 };
    config.size = sizeof config;
    husk_sandbox* sandbox = NULL;
    husk_error* error = NULL;
    if (husk_sandbox_create(&config, &sandbox, &error) != 0) {
        fprintf(stderr, "cannot create a sandbox: %s\n", husk_error_message(error));
        husk_error_free(error);
        return 1;
    }
    const char* const argv[] = { "uname", "-r" };
    husk_result* result = NULL;
    if (husk_sandbox_run(sandbox, argv, 2, NULL, &result, &error) != 0) {
        fprintf(stderr, "run failed: %s\n", husk_error_message(error));
        husk_error_free(error);
        husk_sandbox_destroy(sandbox);
        return 1;
    }
    size_t size = 0;
    const char* output = husk_result_stdout(result, &size);
    printf("guest kernel (libhusk %s, C ABI): %.*s", husk_version(), (int)size, output);
    int status = husk_result_exit_status(result);
    husk_result_free(result);
    husk_sandbox_destroy(sandbox);
    return status;
}
