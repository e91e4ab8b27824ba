@testable import ECMPCore
import Foundation
import XCTest

/// `type: dns`'s messages: the query's bytes, and every way a reply can be
/// wrong (each a clean error with a reason, never a crash or a hang).
final class DNSMessageTests: XCTestCase {
    let question = try! DNSQuestion(name: "www.example.org", type: .a)

    /// A reply to `question` as a server would build it: header, the
    /// question echoed, then `answers` (raw RRs appended as given).
    func reply(
        id: UInt16 = 0x1234, flags: UInt16 = 0x8180, questions: UInt16 = 1, answerCount: UInt16 = 0,
        questionBytes: [UInt8]? = nil, answers: [UInt8] = []
    ) -> [UInt8] {
        var bytes: [UInt8] = []
        DNSMessage.append16(&bytes, id)
        DNSMessage.append16(&bytes, flags)
        DNSMessage.append16(&bytes, questions)
        DNSMessage.append16(&bytes, answerCount)
        DNSMessage.append16(&bytes, 0)
        DNSMessage.append16(&bytes, 0)
        bytes += questionBytes ?? Array(DNSMessage.query(id: 0, question: question).dropFirst(12))
        return bytes + answers
    }

    /// An A record for the question's name (a pointer to offset 12), 198.18.0.53.
    let aRecord: [UInt8] = [0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 0, 53]

    func parse(_ bytes: [UInt8], id: UInt16 = 0x1234, limit: Int = 512) throws(DNSReplyError) -> DNSReply {
        try DNSMessage.parseReply(bytes, id: id, question: question, limit: limit)
    }

    func assertRefused(_ bytes: [UInt8], _ expected: DNSReplyError, file: StaticString = #filePath, line: UInt = #line)
    {
        do {
            let reply = try parse(bytes)
            XCTFail("accepted: \(reply)", file: file, line: line)
        } catch {
            XCTAssertEqual(error, expected, file: file, line: line)
        }
    }

    // MARK: The query

    func testQueryBytes() {
        let query = DNSMessage.query(id: 0xbeef, question: question)
        XCTAssertEqual(Array(query.prefix(12)), [0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(
            Array(query.dropFirst(12)),
            [3] + Array("www".utf8) + [7] + Array("example".utf8) + [3] + Array("org".utf8) + [0, 0, 1, 0, 1])
    }

    func testRootQueryIsOneZeroByte() throws {
        for name in ["", "."] {
            let root = try DNSQuestion(name: name, type: .soa)
            XCTAssertEqual(Array(DNSMessage.query(id: 1, question: root).dropFirst(12)), [0, 0, 6, 0, 1])
            XCTAssertEqual(root.description, ". SOA")
        }
    }

    func testBadNamesAreRefused() {
        XCTAssertThrowsError(try DNSQuestion.labels(of: "a..b")) { XCTAssertEqual($0 as? DNSNameError, .emptyLabel) }
        XCTAssertThrowsError(try DNSQuestion.labels(of: ".a")) { XCTAssertEqual($0 as? DNSNameError, .emptyLabel) }
        let long = String(repeating: "a", count: 64)
        XCTAssertThrowsError(try DNSQuestion.labels(of: long + ".org")) {
            XCTAssertEqual($0 as? DNSNameError, .labelTooLong(long))
        }
        let many = Array(repeating: String(repeating: "b", count: 63), count: 4).joined(separator: ".")
        XCTAssertThrowsError(try DNSQuestion.labels(of: many)) { XCTAssertEqual($0 as? DNSNameError, .tooLong) }
        XCTAssertThrowsError(try DNSQuestion.labels(of: "bad name.org")) {
            XCTAssertEqual($0 as? DNSNameError, .badCharacter("bad name"))
        }
        XCTAssertEqual(try DNSQuestion.labels(of: "_sip._udp.example.org.").count, 4)
    }

    func testTypesAndRcodesByNameAndNumber() {
        XCTAssertEqual(DNSRecordType(name: "aaaa"), .aaaa)
        XCTAssertEqual(DNSRecordType(name: "TYPE65"), DNSRecordType(rawValue: 65))
        XCTAssertEqual(DNSRecordType(rawValue: 65).description, "TYPE65")
        XCTAssertNil(DNSRecordType(name: "TYPE0"))
        XCTAssertNil(DNSRecordType(name: "AXFR2"))
        XCTAssertEqual(DNSResponseCode(name: "nxdomain"), .nameError)
        XCTAssertEqual(DNSResponseCode(name: "9")?.description, "9")
        XCTAssertNil(DNSResponseCode(name: "16"))
    }

    // MARK: Good replies

    func testAnAnswerIsFound() throws {
        let parsed = try parse(reply(answerCount: 1, answers: aRecord))
        XCTAssertEqual(parsed.rcode, .noError)
        XCTAssertFalse(parsed.truncated)
        XCTAssertTrue(parsed.answers(question))
        XCTAssertEqual(parsed.answers.first?.name, question.labels)
    }

    func testNoAnswerAndNXDOMAINAreReadNotRefused() throws {
        XCTAssertFalse(try parse(reply()).answers(question))
        XCTAssertEqual(try parse(reply(flags: 0x8183)).rcode, .nameError)
        // A REFUSED without the question echoed is allowed (RFC 1035 does not require it).
        XCTAssertEqual(try parse(reply(flags: 0x8185, questions: 0, questionBytes: [])).rcode, .refused)
    }

    func testAnAnswerOfAnotherTypeIsNoAnswer() throws {
        var txt = aRecord
        txt[3] = 16
        XCTAssertFalse(try parse(reply(answerCount: 1, answers: txt)).answers(question))
    }

    func testTheQuestionMatchesWithoutRegardToCase() throws {
        let upper = Array(
            DNSMessage.query(id: 0, question: try DNSQuestion(name: "WWW.Example.ORG", type: .a)).dropFirst(12))
        XCTAssertNoThrow(try parse(reply(questionBytes: upper)))
    }

    func testTruncatedReplyIsFlaggedAndItsCutSectionsAreNotRead() throws {
        // TC with an answer count but the answers cut off: the check goes to TCP.
        let parsed = try parse(reply(flags: 0x8380, answerCount: 5))
        XCTAssertTrue(parsed.truncated)
        XCTAssertEqual(parsed.answers, [])
    }

    // MARK: Bad replies

    func testShortReplies() {
        assertRefused([], .tooShort(0))
        assertRefused(Array(reply().prefix(11)), .tooShort(11))
    }

    func testWrongIDIsAStray() {
        assertRefused(reply(id: 0x4321), .wrongID(got: 0x4321, expected: 0x1234))
        XCTAssertTrue(DNSReplyError.wrongID(got: 1, expected: 2).isStray)
    }

    func testAQueryIsNotAReply() {
        assertRefused(reply(flags: 0x0100), .notAResponse)
        XCTAssertTrue(DNSReplyError.notAResponse.isStray)
        XCTAssertFalse(DNSReplyError.compressionLoop(at: 1, target: 1).isStray)
    }

    func testOtherOpcodesAndQuestionCounts() {
        assertRefused(reply(flags: 0x8180 | 2 << 11), .wrongOpcode(2))
        assertRefused(reply(questions: 2), .questionCount(2))
        assertRefused(reply(questions: 0, questionBytes: []), .questionCount(0))
    }

    func testQuestionMismatch() throws {
        let other = Array(
            DNSMessage.query(id: 0, question: try DNSQuestion(name: "evil.example", type: .a)).dropFirst(12))
        assertRefused(
            reply(questionBytes: other), .questionMismatch(got: "evil.example. A", expected: "www.example.org. A"))
        var otherType = Array(DNSMessage.query(id: 0, question: question).dropFirst(12))
        otherType[otherType.count - 3] = 28
        assertRefused(
            reply(questionBytes: otherType),
            .questionMismatch(got: "www.example.org. AAAA", expected: "www.example.org. A"))
    }

    func testTruncatedSections() {
        let full = reply(answerCount: 1, answers: aRecord)
        // Cut inside the question's name, its type, an answer's header and its rdata.
        assertRefused(Array(full.prefix(15)), .truncatedMessage(section: "question"))
        assertRefused(Array(full.prefix(31)), .truncatedMessage(section: "question"))
        assertRefused(Array(full.prefix(full.count - 8)), .truncatedMessage(section: "answer"))
        assertRefused(Array(full.prefix(full.count - 1)), .truncatedMessage(section: "answer"))
        // More answers announced than sent.
        assertRefused(reply(answerCount: 2, answers: aRecord), .truncatedMessage(section: "answer"))
    }

    func testCompressionLoops() {
        let base = reply().count
        // A pointer to itself.
        assertRefused(reply(answerCount: 1, answers: [0xc0, UInt8(base)]), .compressionLoop(at: base, target: base))
        // A label, then a pointer back to that label: a cycle of two.
        assertRefused(
            reply(answerCount: 1, answers: [1, 0x61, 0xc0, UInt8(base)]), .compressionLoop(at: base + 2, target: base))
        // A pointer forward to a pointer that comes back.
        assertRefused(
            reply(answerCount: 1, answers: [0xc0, UInt8(base + 2), 0xc0, UInt8(base)]),
            .compressionLoop(at: base, target: base + 2))
        // In the question itself.
        assertRefused(reply(questionBytes: [0xc0, 12, 0, 1, 0, 1]), .compressionLoop(at: 12, target: 12))
    }

    func testPointerOutOfRange() {
        let base = reply().count
        assertRefused(reply(answerCount: 1, answers: [0xc1, 0x00]), .pointerOutOfRange(at: base, target: 256))
        assertRefused(reply(answerCount: 1, answers: [0xc0]), .truncatedMessage(section: "answer"))
    }

    func testExtendedLabelTypes() {
        let base = reply().count
        assertRefused(reply(answerCount: 1, answers: [0x41, 0]), .badLabelType(at: base, byte: 0x41))
        assertRefused(reply(answerCount: 1, answers: [0x80, 0]), .badLabelType(at: base, byte: 0x80))
    }

    func testNamesOver255BytesThroughPointers() {
        // Five 63-byte labels chained by pointers, each jump backwards and
        // legal, held in a TXT answer's rdata; a second answer names the
        // last one, which makes a name of 321 bytes.
        let start = reply().count + 12
        var chain: [UInt8] = []
        var previous: Int?
        for _ in 0..<5 {
            let here = start + chain.count
            chain += [63] + Array(repeating: 0x61, count: 63)
            if let previous {
                chain += [0xc0 | UInt8(previous >> 8), UInt8(previous & 0xff)]
            } else {
                chain.append(0)
            }
            previous = here
        }
        let holder: [UInt8] =
            [0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 0, UInt8(chain.count >> 8), UInt8(chain.count & 0xff)] + chain
        let last = previous!
        let pointing: [UInt8] = [0xc0 | UInt8(last >> 8), UInt8(last & 0xff), 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]
        assertRefusedLimit(reply(answerCount: 2, answers: holder + pointing), .nameTooLong)
    }

    func assertRefusedLimit(
        _ bytes: [UInt8], _ expected: DNSReplyError, file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            let reply = try parse(bytes, limit: 65535)
            XCTFail("accepted: \(reply)", file: file, line: line)
        } catch {
            XCTAssertEqual(error, expected, file: file, line: line)
        }
    }

    func testOversizedReplies() {
        let big = reply(answerCount: 1, answers: aRecord) + Array(repeating: 0, count: 600)
        assertRefused(big, .oversized(big.count, limit: 512))
        // Trailing bytes within the limit are not an error.
        XCTAssertNoThrow(try parse(reply(answerCount: 1, answers: aRecord) + [0, 0], limit: 4096))
    }

    func testEveryPrefixAndEveryByteFlipIsAnswerOrCleanError() {
        // The fuzzer's property, in the unit tier: no input crashes or hangs.
        let full = reply(answerCount: 1, answers: aRecord)
        for length in 0...full.count { _ = try? parse(Array(full.prefix(length))) }
        for index in full.indices {
            for value in [0x00, 0x3f, 0x40, 0xc0, 0xff] as [UInt8] {
                var mutated = full
                mutated[index] = value
                _ = try? parse(mutated)
            }
        }
    }

    func testErrorsReadAsReasons() {
        XCTAssertEqual(
            DNSReplyError.compressionLoop(at: 40, target: 44).description,
            "DNS reply's name pointer at byte 40 goes to 44, not back: a compression loop")
        XCTAssertEqual(DNSReplyError.wrongID(got: 7, expected: 9).description, "DNS reply with ID 7, expected 9")
        XCTAssertEqual(DNSQuestion.presentation([[0x61, 0x20, 0x2e]]), "a\\032\\046.")
    }

    /// The DNS fuzz corpus (Fixtures/fuzz-corpus/dns: seeds and the
    /// regressions `make fuzz` turned up, named `regression-*`), each read
    /// as the fuzzer reads it: parsed, or refused with a reason.
    func testTheFuzzCorpusParsesOrIsRefusedWithAReason() throws {
        let directory = FixtureFiles.fixture("fuzz-corpus/dns")
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        XCTAssertGreaterThanOrEqual(files.count, 8)
        var refused: [String: DNSReplyError] = [:]
        for url in files {
            let bytes = try [UInt8](Data(contentsOf: url))
            let id = bytes.count >= 2 ? UInt16(bytes[0]) << 8 | UInt16(bytes[1]) : 0
            do {
                _ = try DNSMessage.parseReply(bytes, id: id, question: question, limit: 65535)
            } catch {
                refused[url.lastPathComponent] = error
            }
        }
        XCTAssertEqual(refused["regression-self-pointer.bin"], .compressionLoop(at: 33, target: 33))
        XCTAssertEqual(refused["regression-two-label-loop.bin"], .compressionLoop(at: 35, target: 33))
        XCTAssertEqual(refused["regression-pointer-past-end.bin"], .pointerOutOfRange(at: 33, target: 1023))
        XCTAssertNil(refused["answer-a.bin"])
        XCTAssertNil(refused["answer-cname-chain.bin"])
    }
}
