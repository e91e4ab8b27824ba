@testable import ECMPCore
import XCTest

/// The HTTP check's response reader: every way a body can end, fed whole
/// and a byte at a time, and the malformed answers it must refuse.
final class HTTPResponseParserTests: XCTestCase {
    /// Feeds `text` in pieces of `piece` bytes; nil while incomplete.
    func parse(_ text: String, piece: Int = .max, digest: Bool = true, closeAfter: Bool = false) throws
        -> HTTPResponseParser.Response?
    {
        var parser = HTTPResponseParser(digestBody: digest)
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            let end = min(bytes.count, index + min(piece, bytes.count))
            if case .complete(let response) = try parser.feed(bytes[index..<end]) { return response }
            index = end
        }
        return closeAfter ? try parser.finish() : nil
    }

    func testContentLengthBodyCompletesWithoutTheClose() throws {
        let text = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"
        for piece in [1, 3, 1000] {
            let response = try XCTUnwrap(try parse(text, piece: piece), "piece \(piece)")
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.bodyDigest, MD5.hexDigest(of: Array("hello".utf8)))
            XCTAssertEqual(response.bodyLength, 5)
        }
    }

    func testChunkedBodyIsJoinedBeforeTheDigest() throws {
        let text =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n"
        for piece in [1, 2, 1000] {
            let response = try XCTUnwrap(try parse(text, piece: piece))
            XCTAssertEqual(response.bodyDigest, MD5.hexDigest(of: Array("hello, world".utf8)))
            XCTAssertEqual(response.bodyLength, 12)
        }
    }

    func testNoContentLengthReadsUntilTheClose() throws {
        let text = "HTTP/1.0 200 OK\r\nServer: test\r\n\r\nbody without length"
        XCTAssertNil(try parse(text), "not complete before the close")
        let response = try XCTUnwrap(try parse(text, closeAfter: true))
        XCTAssertEqual(response.bodyDigest, MD5.hexDigest(of: Array("body without length".utf8)))
    }

    func testACloseBeforeTheBodyEndsIsTruncation() {
        XCTAssertThrowsError(try parse("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", closeAfter: true)) {
            error in
            XCTAssertEqual(error as? CheckFailure, .truncatedResponse(received: 45))
        }
        XCTAssertThrowsError(try parse("HTTP/1.1 200 OK\r\nContent-Le", closeAfter: true)) { error in
            XCTAssertEqual((error as? CheckFailure)?.label, "truncated")
        }
    }

    func testASlowBodyIsIncompleteUntilItsLastByte() throws {
        var parser = HTTPResponseParser(digestBody: false)
        XCTAssertEqual(try parser.feed(Array("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab".utf8)), .needMore)
        XCTAssertEqual(try parser.feed(Array("c".utf8)), .complete(.init(status: 200, bodyDigest: nil, bodyLength: 3)))
    }

    func testWrongStatusIsReadNotRefused() throws {
        let response = try XCTUnwrap(try parse("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"))
        XCTAssertEqual(response.status, 500, "the probe judges the code; the parser only reads it")
    }

    func testNoBodyStatusesEndAtTheHeaders() throws {
        XCTAssertEqual(try parse("HTTP/1.1 204 No Content\r\n\r\n")?.status, 204)
        XCTAssertEqual(try parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n")?.status, 304)
    }

    func testInterimResponsesAreSkipped() throws {
        XCTAssertEqual(
            try parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")?.status, 200)
    }

    func testBareLineFeedsAreAccepted() throws {
        XCTAssertEqual(try parse("HTTP/1.1 200 OK\nContent-Length: 2\n\nok")?.bodyLength, 2)
    }

    func testMalformedResponsesAreRefusedWithAReason() {
        let cases: [(String, String)] = [
            ("SSH-2.0-OpenSSH_9.2\r\n", "not an HTTP/1.x status line"),
            ("HTTP/1.1 2000 OK\r\n\r\n", "bad status code"),
            ("HTTP/2 200\r\n\r\n", "not an HTTP/1.x status line"),
            ("HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n", "header line without a colon"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "conflicting Content-Length"),
            ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", "chunk not followed by CRLF"),
        ]
        for (text, reason) in cases {
            XCTAssertThrowsError(try parse(text), text) { error in
                XCTAssertTrue("\(error)".contains(reason), "\(text.debugDescription): \(error)")
            }
        }
    }

    func testAnEndlessHeadIsCutOffAtTheLimit() {
        let text =
            "HTTP/1.1 200 OK\r\n"
            + String(repeating: "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", count: 500)
        XCTAssertThrowsError(try parse(text)) { error in
            XCTAssertTrue("\(error)".contains("over 16 KiB"), "\(error)")
        }
    }

    func testAnOversizedBodyIsRefused() {
        XCTAssertThrowsError(try parse("HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n")) { error in
            XCTAssertTrue("\(error)".contains("body over 4 MiB"), "\(error)")
        }
    }

    func testTheDigestIsSkippedWhenNotWanted() throws {
        XCTAssertNil(try parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", digest: false)?.bodyDigest)
    }
}
