import ECMPCore
import FuzzSupport

/// libFuzzer on the DNS reply parser `type: dns` checks use: the input is
/// read as the reply to a query for www.example.org A whose ID is the
/// input's first two bytes (so mutations get past the ID check), with the
/// UDP limit and with TCP's. Every input must parse or be refused with a
/// `DNSReplyError`: a crash, a trap or a hang is a finding. Run by `make fuzz`.
@main
enum DNSReplyFuzzer {
    static let question = try! DNSQuestion(name: "www.example.org", type: .a)

    static func main() {
        LibFuzzer.run { data, size in DNSReplyFuzzer.testOneInput(LibFuzzer.bytes(data, size)) }
    }

    static func testOneInput(_ bytes: [UInt8]) -> CInt {
        let id = bytes.count >= 2 ? UInt16(bytes[0]) << 8 | UInt16(bytes[1]) : 0
        for limit in [DNSMessage.largestUDPReply, Int(UInt16.max)] {
            do throws(DNSReplyError) {
                let reply = try DNSMessage.parseReply(bytes, id: id, question: question, limit: limit)
                let announced = Int(bytes[6]) << 8 | Int(bytes[7])
                precondition(reply.answers.count == (reply.truncated ? 0 : announced), "answers miscounted")
                _ = reply.answers(question)
            } catch {
                precondition(!error.description.isEmpty)
            }
        }
        return 0
    }
}
