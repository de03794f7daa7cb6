// The sender's SACK scoreboard and the RFC 6675 loss-recovery state ("A Conservative Loss
// Recovery Algorithm Based on Selective Acknowledgment (SACK) for TCP").
//
// Read first: RFC 2018 §5 (what the sender records), §8 (reneging: SACKed data is kept
// until cumulatively acknowledged, and forgotten on a timeout), RFC 6675 §2 (HighACK,
// HighData, HighRxt, RescueRxt, RecoveryPoint, DupAcks), §4 (Update, IsLost, SetPipe,
// NextSeg) and §5 (the algorithm, §5.1 timeouts).
//
// Everything is in 64-bit absolute stream offsets, as the send buffer is: the connection
// validates and unwraps the blocks of each ACK first. Ranges are half-open [begin, end):
// the RFC's inclusive HighRxt becomes `high_rxt` = one past the highest octet
// retransmitted, and RecoveryPoint = HighData becomes SND.MAX as an offset, so "HighACK >
// RecoveryPoint" reads `una >= recovery_point`.
//
// Pure and clock-free; tests/unit/tcp/sack_scoreboard_test.cpp covers each routine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace tapir::tcp {

// Received octets [begin, end) the peer reported in a SACK block, as stream offsets.
struct SackRange {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  std::uint64_t size() const { return end - begin; }
  friend bool operator==(const SackRange&, const SackRange&) = default;
};

// RFC 6675 §4 NextSeg(): the segment to send next and which rule chose it.
struct NextSegment {
  enum class Rule : std::uint8_t {
    Lost,      // (1) the first lost, unSACKed octets above HighRxt
    NewData,   // (2) previously unsent data (the connection picks the octets)
    Unsacked,  // (3) unSACKed octets above HighRxt below the highest SACK, not yet lost
    Rescue,    // (4) one rescue retransmission of the highest unSACKed octets
  };
  Rule rule = Rule::Lost;
  std::uint64_t begin = 0;  // unused for NewData
  std::uint64_t len = 0;
  friend bool operator==(const NextSegment&, const NextSegment&) = default;
};

class SackScoreboard {
 public:
  // RFC 6675 §2: DupThresh, "the number of duplicate acknowledgments required to trigger
  // a retransmission"; 3 as in RFC 5681.
  static constexpr std::uint32_t kDupThresh = 3;
  // Disjoint ranges kept at most: a block that would add one more is not recorded (the
  // octets stay un-SACKed, which costs at most a needless retransmission).
  static constexpr std::size_t kDefaultMaxRanges = 256;

  explicit SackScoreboard(std::size_t max_ranges = kDefaultMaxRanges) : max_ranges_(max_ranges) {}

  // ---- RFC 6675 §4 Update(), and the cumulative ACK ----

  // Records validated blocks (within [una, SND.MAX)); returns the octets newly SACKed. An
  // ACK that SACKs new octets is a "duplicate acknowledgment" by RFC 6675 §2.
  std::uint64_t update(std::span<const SackRange> blocks);
  // SND.UNA moved to `una`: everything below is cumulatively acknowledged and forgotten.
  void advance(std::uint64_t una);
  // RFC 2018 §8 / RFC 6675 §5.1: after a retransmission timeout "the TCP sender SHOULD
  // expunge the SACK information gathered from a receiver" (it may have reneged).
  void clear() { ranges_.clear(); }
  // Blocks not recorded because the range limit was reached.
  std::uint64_t dropped_blocks() const { return dropped_blocks_; }

  // ---- Queries ----

  std::span<const SackRange> ranges() const { return ranges_; }
  bool empty() const { return ranges_.empty(); }
  bool is_sacked(std::uint64_t off) const;
  // The first SACKed range starting at or after `off`, if any.
  const SackRange* next_range(std::uint64_t off) const;
  // The end of the SACKed range holding `off`, or `off` itself when it is not SACKed.
  std::uint64_t sacked_run_end(std::uint64_t off) const;
  // SACKed octets in [from, to).
  std::uint64_t sacked_between(std::uint64_t from, std::uint64_t to) const;
  // One past the highest SACKed octet (0 when nothing is SACKed).
  std::uint64_t highest_sacked_end() const { return ranges_.empty() ? 0 : ranges_.back().end; }

  // RFC 6675 §4 IsLost(SeqNum): true when DupThresh discontiguous SACKed sequences lie
  // above `off`, or more than (DupThresh - 1) * SMSS octets above it are SACKed.
  bool is_lost(std::uint64_t off, std::uint32_t smss) const;

  // RFC 6675 §4 SetPipe(): the octets in [una, high_data) still in the network: each
  // octet not SACKed counts once if IsLost() is false (the original is in flight) and
  // once more if it lies below `high_rxt` (its retransmission is in flight).
  std::uint64_t pipe(std::uint64_t una, std::uint64_t high_data, std::uint64_t high_rxt,
                     std::uint32_t smss) const;

  struct NextSegInput {
    std::uint64_t una = 0;                    // HighACK (+1): the first unacknowledged octet
    std::uint64_t high_data = 0;              // SND.MAX: one past the highest octet sent
    std::uint64_t high_rxt = 0;               // one past HighRxt
    std::optional<std::uint64_t> rescue_rxt;  // one past RescueRxt, if set
    std::uint32_t smss = 536;
    std::size_t max_len = 536;  // payload cap of one segment (SMSS less SACK option space)
    bool new_data = false;      // unsent data exists and the receiver's window allows it
  };
  // RFC 6675 §4 NextSeg(): rules (1) to (4), in order; nullopt is (5), "indicate failure".
  std::optional<NextSegment> next_seg(const NextSegInput& in) const;

 private:
  // Calls f(hole_begin, hole_end, ranges_above, sacked_above) for each un-SACKed gap in
  // [una, high_data), lowest first; ranges_above/sacked_above describe the SACKed ranges
  // beyond the gap, which are the same for every octet in it (IsLost is constant there).
  template <class F>
  void for_each_hole(std::uint64_t una, std::uint64_t high_data, F&& f) const;
  bool lost_given(std::size_t ranges_above, std::uint64_t sacked_above, std::uint32_t smss) const;

  std::vector<SackRange> ranges_;  // sorted, disjoint, not adjacent
  std::size_t max_ranges_;
  std::uint64_t dropped_blocks_ = 0;
};

// RFC 6675 §5: the loss-recovery phase a connection with SACK goes through.
struct SackRecovery {
  bool active = false;
  bool entry_pending = false;        // §5 (4.3): the first retransmission is still to go
  std::uint64_t recovery_point = 0;  // RecoveryPoint: SND.MAX when recovery (or an RTO) began
  std::uint64_t high_rxt = 0;        // one past HighRxt
  std::optional<std::uint64_t> rescue_rxt;  // one past RescueRxt
  std::uint32_t dup_acks = 0;               // DupAcks (RFC 6675 §2 definition)
};

}  // namespace tapir::tcp
