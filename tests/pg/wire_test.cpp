// The backend-protocol reader of the COPY fast path, over a real socket pair: messages split
// across writes, a message larger than the buffer, the end of the stream, and the field and tag
// parsers.

#include "pg/wire.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace strata::pg::detail {
namespace {

// A connected pair of Unix stream sockets; the reading end is non-blocking, as libpq's is.
struct SocketPair {
  int reader = -1, writer = -1;
  SocketPair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) throw std::runtime_error("socketpair failed");
    reader = fds[0];
    writer = fds[1];
    ::fcntl(reader, F_SETFL, ::fcntl(reader, F_GETFL) | O_NONBLOCK);
  }
  ~SocketPair() {
    if (reader >= 0) ::close(reader);
    close_writer();
  }
  void close_writer() {
    if (writer >= 0) ::close(writer);
    writer = -1;
  }
  void write_all(const std::string& bytes) const {
    for (size_t at = 0; at < bytes.size();) {
      const ssize_t n = ::write(writer, bytes.data() + at, bytes.size() - at);
      if (n <= 0) throw std::runtime_error("write failed");
      at += static_cast<size_t>(n);
    }
  }
};

std::string message(char type, const std::string& body) {
  std::string out(1, type);
  const auto length = static_cast<uint32_t>(body.size() + 4);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((length >> (24 - 8 * i)) & 0xff));
  return out + body;
}

TEST(PgWireTest, MessagesSplitAcrossWritesComeWhole) {
  SocketPair pair;
  const std::string stream = message('H', std::string(3, '\0')) + message('d', "row one\n") +
                             message('d', "row two\n") + message('C', std::string("COPY 2") + '\0') +
                             message('Z', "I");
  // Written one byte at a time from another thread, so the reader waits and reassembles.
  std::thread writer([&] {
    for (char c : stream) pair.write_all(std::string(1, c));
  });
  WireReader reader(pair.reader);
  std::string seen;
  while (true) {
    auto next = reader.next();
    ASSERT_TRUE(next.ok()) << next.error().to_string();
    seen += next->type;
    if (next->type == 'd') seen += "[" + std::string(next->body) + "]";
    if (next->type == 'C') {
      EXPECT_EQ(tag_rows(next->body), 2);
    }
    if (next->type == 'Z') break;
  }
  writer.join();
  EXPECT_EQ(seen, "Hd[row one\n]d[row two\n]CZ");
}

TEST(PgWireTest, AMessageLargerThanTheBufferGrowsIt) {
  SocketPair pair;
  const std::string big(3 << 20, 'x');  // larger than the 256 KB buffer
  std::thread writer([&] { pair.write_all(message('d', "a") + message('d', big) + message('d', "b")); });
  WireReader reader(pair.reader);
  for (const std::string& expected : {std::string("a"), big, std::string("b")}) {
    auto next = reader.next();
    ASSERT_TRUE(next.ok()) << next.error().to_string();
    EXPECT_EQ(next->type, 'd');
    EXPECT_EQ(next->body.size(), expected.size());
    EXPECT_TRUE(next->body == expected);
  }
  writer.join();
}

TEST(PgWireTest, TheEndOfTheStreamMidMessageIsALostConnection) {
  SocketPair pair;
  pair.write_all(message('d', "whole") + message('d', "cut short").substr(0, 7));
  pair.close_writer();
  WireReader reader(pair.reader);
  auto first = reader.next();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->body, "whole");
  auto second = reader.next();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), ErrorCode::kConnection);
  EXPECT_NE(second.error().message().find("closed the connection"), std::string::npos);
}

// A reader given `header` (a message type and length) fails at once with a loss of sync.
void expect_loss_of_sync(const std::string& header) {
  SocketPair pair;
  pair.write_all(header);
  WireReader reader(pair.reader);
  auto next = reader.next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().code(), ErrorCode::kConnection);
  EXPECT_NE(next.error().message().find("lost synchronization"), std::string::npos) << next.error().message();
}

TEST(PgWireTest, AnImpossibleLengthIsALossOfSync) { expect_loss_of_sync(std::string("d\x7f\xff\xff\xff", 5)); }

TEST(PgWireTest, ALongMessageOfAShortTypeIsALossOfSync) {
  expect_loss_of_sync(std::string("Z\x00\x01\x00\x00", 5));  // a ReadyForQuery of 64 KB
}

TEST(PgWireTest, BufferedCountsWhatWasReceivedButNotHandedOut) {
  SocketPair pair;
  const std::string tail = message('N', "notice").substr(0, 6);
  pair.write_all(message('Z', "I") + tail);
  WireReader reader(pair.reader);
  auto ready = reader.next();
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->type, 'Z');
  EXPECT_EQ(reader.buffered(), tail.size());
}

TEST(PgWireTest, SendMessageWritesTypeLengthTextAndNul) {
  SocketPair pair;
  ASSERT_TRUE(send_message(pair.writer, 'Q', "select 1").ok());
  char buffer[64];
  const ssize_t n = ::read(pair.reader, buffer, sizeof buffer);
  ASSERT_EQ(n, 1 + 4 + 8 + 1);
  EXPECT_EQ(std::string(buffer, static_cast<size_t>(n)), std::string("Q\0\0\0\x0dselect 1\0", 14));
}

TEST(PgWireTest, ErrorFieldsAndCommandTags) {
  const std::string body("SERROR\0VERROR\0C22012\0Mdivision by zero\0Dsome detail\0Htry this\0P7\0\0", 66);
  WireFields fields = parse_fields(body);
  EXPECT_EQ(fields.severity, "ERROR");
  EXPECT_EQ(fields.sqlstate, "22012");
  EXPECT_EQ(fields.message, "division by zero");
  EXPECT_EQ(fields.detail, "some detail");
  EXPECT_EQ(fields.hint, "try this");
  EXPECT_EQ(fields.position, "7");
  // The localized severity 'S' is shown, as libpq does; the non-localized 'V' only without it.
  EXPECT_EQ(parse_fields(std::string("SFEHLER\0VERROR\0\0", 16)).severity, "FEHLER");
  EXPECT_EQ(parse_fields(std::string("VERROR\0\0", 8)).severity, "ERROR");
  EXPECT_EQ(tag_rows(std::string("COPY 5000000\0", 13)), 5000000);
  EXPECT_EQ(tag_rows(std::string("SELECT 3", 8)), 3);
  EXPECT_EQ(tag_rows("BEGIN"), 0);
}

}  // namespace
}  // namespace strata::pg::detail
