@testable import ECMPCore
import XCTest

/// The bytes of a config file as the CLI reads them: UTF-8 within the size
/// limit, or a problem naming the file, the line and the byte offset.
final class SourceTextTests: XCTestCase {
    func refusal(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> ConfigProblem? {
        do {
            _ = try SourceText.decode(bytes, file: "ecmpd.yaml")
            XCTFail("decoded: the bytes should have been refused", file: file, line: line)
            return nil
        } catch {
            XCTAssertEqual(error.problems.count, 1, file: file, line: line)
            return error.problems.first
        }
    }

    func testValidUTF8IsReturnedUnchanged() throws {
        XCTAssertEqual(try SourceText.decode(Array("vips: # café ✓\n".utf8), file: "ecmpd.yaml"), "vips: # café ✓\n")
    }

    func testInvalidByteIsRefusedWithFileLineColumnAndOffset() {
        let bytes = Array("vips:\n  - address: 198.18.0.1 # ".utf8) + [0xFF] + Array(" x\n".utf8)
        let problem = refusal(bytes)
        XCTAssertEqual(
            problem?.description,
            "ecmpd.yaml:2:27: error: \"0xff\": not valid UTF-8 (at byte offset 32); save the file as UTF-8 text")
    }

    func testTruncatedSequenceAndOverlongEncodingAreRefused() {
        XCTAssertEqual(refusal(Array("a\nb\n".utf8) + [0xC3])?.line, 3)
        XCTAssertEqual(refusal([0xC0, 0xAF])?.value, "0xc0")
        XCTAssertEqual(refusal(Array("x".utf8) + [0xED, 0xA0, 0x80])?.column, 2)
    }

    func testBytesPastTheLimitAreRefusedBeforeDecoding() {
        let bytes = [UInt8](repeating: UInt8(ascii: "\n"), count: SourceText.maximumSize + 1)
        let problem = refusal(bytes)
        XCTAssertEqual(problem?.line, SourceText.maximumSize + 1)
        XCTAssertEqual(problem?.value, "\(SourceText.maximumSize + 1) bytes")
    }
}
