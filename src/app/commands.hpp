// The subcommands of the `tapir` executable. Each returns the process exit code:
// 0 success, 1 runtime failure, 2 usage error (thrown as UsageError).
#pragma once

namespace tapir::app {

int cmd_serve(int argc, char** argv);
int cmd_ping(int argc, char** argv);
int cmd_nc(int argc, char** argv);
int cmd_get(int argc, char** argv);
int cmd_ss(int argc, char** argv);
int cmd_stats(int argc, char** argv);
int cmd_arp(int argc, char** argv);
int cmd_replay(int argc, char** argv);
int cmd_decode(int argc, char** argv);
int cmd_resolve(int argc, char** argv);

}  // namespace tapir::app
