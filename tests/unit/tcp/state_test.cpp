#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tcp/state.hpp"

using namespace tapir::tcp;

namespace {

constexpr TcpState kAll[] = {
    TcpState::Closed,      TcpState::Listen,   TcpState::SynSent,  TcpState::SynReceived,
    TcpState::Established, TcpState::FinWait1, TcpState::FinWait2, TcpState::CloseWait,
    TcpState::Closing,     TcpState::LastAck,  TcpState::TimeWait,
};

struct DocRow {
  std::string from, to, event, section;
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// The rows of the Markdown table in docs/tcp-states.md (header and separator skipped).
std::vector<DocRow> read_doc_rows() {
  const auto path = std::filesystem::path(__FILE__).parent_path() / "../../../docs/tcp-states.md";
  std::ifstream in(path);
  INFO("path=" << path.string());
  REQUIRE(in.good());
  std::vector<DocRow> rows;
  std::string line;
  bool header_seen = false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '|') continue;
    std::vector<std::string> cells;
    std::stringstream ss(line.substr(1));
    std::string cell;
    while (std::getline(ss, cell, '|')) cells.push_back(trim(cell));
    if (!header_seen) {  // "| From | To | Event | RFC 9293 |"
      header_seen = true;
      continue;
    }
    if (cells.size() >= 1 && cells[0].starts_with("---")) continue;
    INFO("line: " << line);
    REQUIRE(cells.size() == 4);
    rows.push_back({cells[0], cells[1], cells[2], cells[3]});
  }
  return rows;
}

}  // namespace

TEST_CASE("state: to_string gives the RFC 9293 spelling", "[tcp][state][rfc9293-3.3.2]") {
  CHECK(to_string(TcpState::Closed) == "CLOSED");
  CHECK(to_string(TcpState::Listen) == "LISTEN");
  CHECK(to_string(TcpState::SynSent) == "SYN-SENT");
  CHECK(to_string(TcpState::SynReceived) == "SYN-RECEIVED");
  CHECK(to_string(TcpState::Established) == "ESTABLISHED");
  CHECK(to_string(TcpState::FinWait1) == "FIN-WAIT-1");
  CHECK(to_string(TcpState::FinWait2) == "FIN-WAIT-2");
  CHECK(to_string(TcpState::CloseWait) == "CLOSE-WAIT");
  CHECK(to_string(TcpState::Closing) == "CLOSING");
  CHECK(to_string(TcpState::LastAck) == "LAST-ACK");
  CHECK(to_string(TcpState::TimeWait) == "TIME-WAIT");
}

TEST_CASE("state: state_from_string inverts to_string", "[tcp][state]") {
  for (TcpState s : kAll) CHECK(state_from_string(to_string(s)) == s);
  CHECK_FALSE(state_from_string("SYN_RCVD").has_value());
  CHECK_FALSE(state_from_string("established").has_value());
  CHECK_FALSE(state_from_string("").has_value());
}

TEST_CASE("state: StateSet membership", "[tcp][state]") {
  constexpr StateSet closing_side = TcpState::FinWait1 | TcpState::Closing | TcpState::LastAck;
  CHECK(in(TcpState::Closing, closing_side));
  CHECK(in(TcpState::LastAck, closing_side));
  CHECK_FALSE(in(TcpState::Established, closing_side));
  CHECK(in(TcpState::Listen, TcpState::Listen));
  CHECK(StateSet{}.empty());
  CHECK((closing_side & TcpState::Closing) == StateSet(TcpState::Closing));
  CHECK((closing_side & TcpState::Listen).empty());
  // RFC 9293 §3.10.7.4: the synchronized states are ESTABLISHED and everything after it.
  for (TcpState s : kAll) {
    const bool sync = s != TcpState::Closed && s != TcpState::Listen && s != TcpState::SynSent &&
                      s != TcpState::SynReceived;
    INFO(to_string(s));
    CHECK(in(s, kSynchronized) == sync);
  }
  CHECK(in(TcpState::LastAck, kFinSent));
  CHECK(in(TcpState::LastAck, kFinReceived));
  CHECK_FALSE(in(TcpState::FinWait2, kFinReceived));
  CHECK_FALSE(in(TcpState::CloseWait, kFinSent));
}

TEST_CASE("state: RFC 9293 Fig. 5 edges are legal", "[tcp][state][rfc9293-3.3.2]") {
  using S = TcpState;
  const std::pair<S, S> fig5[] = {
      {S::Closed, S::Listen},           {S::Closed, S::SynSent},
      {S::Listen, S::Closed},           {S::Listen, S::SynSent},
      {S::Listen, S::SynReceived},      {S::SynSent, S::Closed},
      {S::SynSent, S::SynReceived},     {S::SynSent, S::Established},
      {S::SynReceived, S::Established}, {S::SynReceived, S::FinWait1},
      {S::Established, S::FinWait1},    {S::Established, S::CloseWait},
      {S::FinWait1, S::FinWait2},       {S::FinWait1, S::Closing},
      {S::FinWait2, S::TimeWait},       {S::Closing, S::TimeWait},
      {S::CloseWait, S::LastAck},       {S::LastAck, S::Closed},
      {S::TimeWait, S::Closed},
  };
  for (auto [from, to] : fig5) {
    INFO(to_string(from) << " -> " << to_string(to));
    CHECK(is_legal_transition(from, to));
  }
}

TEST_CASE("state: §3.10 event-text edges beyond Fig. 5 are legal", "[tcp][state][rfc9293-3.10]") {
  using S = TcpState;
  // §3.10.7.4 second check: a reset passive open returns to LISTEN.
  CHECK(is_legal_transition(S::SynReceived, S::Listen));
  // §3.10.7.4 eighth check: FIN in SYN-RECEIVED enters CLOSE-WAIT.
  CHECK(is_legal_transition(S::SynReceived, S::CloseWait));
  // §3.10.7.4 eighth check: FIN-WAIT-1 with our FIN ACKed enters TIME-WAIT directly.
  CHECK(is_legal_transition(S::FinWait1, S::TimeWait));
  // §3.10.7.4 second check, §3.10.5, §3.10.8: every synchronized state can be reset.
  for (S s : {S::Established, S::FinWait1, S::FinWait2, S::CloseWait, S::Closing, S::LastAck,
              S::TimeWait}) {
    INFO(to_string(s));
    CHECK(is_legal_transition(s, S::Closed));
  }
}

TEST_CASE("state: impossible edges are illegal", "[tcp][state]") {
  using S = TcpState;
  CHECK_FALSE(is_legal_transition(S::Closed, S::Established));
  CHECK_FALSE(is_legal_transition(S::Listen, S::Established));
  CHECK_FALSE(is_legal_transition(S::Established, S::SynSent));
  CHECK_FALSE(is_legal_transition(S::Established, S::TimeWait));
  CHECK_FALSE(is_legal_transition(S::FinWait2, S::Closing));
  CHECK_FALSE(is_legal_transition(S::CloseWait, S::FinWait1));
  CHECK_FALSE(is_legal_transition(S::TimeWait, S::SynReceived));
  CHECK_FALSE(is_legal_transition(S::SynSent, S::Listen));
  for (S s : kAll) {
    INFO(to_string(s));
    CHECK_FALSE(is_legal_transition(s, s));
    const bool from_closed_ok = s == S::Listen || s == S::SynSent;
    CHECK(is_legal_transition(S::Closed, s) == from_closed_ok);
  }
}

TEST_CASE("state: docs/tcp-states.md matches the transition table exactly", "[tcp][state][docs]") {
  const auto rows = read_doc_rows();
  const auto table = legal_transitions();
  REQUIRE(rows.size() == table.size());

  std::set<std::pair<TcpState, TcpState>> doc_edges;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const DocRow& r = rows[i];
    INFO("doc row " << i << ": " << r.from << " -> " << r.to);
    const auto from = state_from_string(r.from);
    const auto to = state_from_string(r.to);
    REQUIRE(from.has_value());
    REQUIRE(to.has_value());
    CHECK(doc_edges.insert({*from, *to}).second);  // no duplicate rows
    // Same row, same order, same words as the code's table.
    CHECK(table[i].from == *from);
    CHECK(table[i].to == *to);
    CHECK(std::string(table[i].event) == r.event);
    CHECK(std::string(table[i].section) == r.section);
  }
  // Both ways over all 121 pairs: in the doc exactly when is_legal_transition says so.
  for (TcpState from : kAll) {
    for (TcpState to : kAll) {
      INFO(to_string(from) << " -> " << to_string(to));
      CHECK(doc_edges.contains({from, to}) == is_legal_transition(from, to));
    }
  }
}
