// Runs part of a test in a network namespace of its own: the body runs in a forked child
// that has unshare(CLONE_NEWNET)ed, so nothing it creates (TAP devices, addresses) is
// visible to, or outlives, the test process. The body reports failure by throwing; the
// child's message reaches the test as INFO. Without root, or where unshare is refused,
// the test is skipped with a WARN.
#pragma once

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <exception>
#include <string>

namespace tapir::test {

template <class Body>
void run_in_private_netns(Body&& body) {
  constexpr int kChildSkip = 77;
  if (::geteuid() != 0) {
    WARN("skipped: needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) for a network namespace");
    return;
  }
  std::array<int, 2> pipefd{};
  REQUIRE(::pipe2(pipefd.data(), O_CLOEXEC) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(pipefd[0]);
    auto say = [&](const std::string& s) { (void)!::write(pipefd[1], s.data(), s.size()); };
    if (::unshare(CLONE_NEWNET) < 0) {
      say(std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno));
      ::_exit(kChildSkip);
    }
    try {
      body();
    } catch (const std::exception& e) {
      say(e.what());
      ::_exit(1);
    }
    ::_exit(0);
  }
  ::close(pipefd[1]);
  std::string report;
  std::array<char, 512> buf{};
  ssize_t n = 0;
  while ((n = ::read(pipefd[0], buf.data(), buf.size())) > 0) report.append(buf.data(), n);
  ::close(pipefd[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  if (WEXITSTATUS(status) == kChildSkip) {
    WARN("skipped: " << report);
    return;
  }
  INFO(report);
  CHECK(WEXITSTATUS(status) == 0);
}

}  // namespace tapir::test
