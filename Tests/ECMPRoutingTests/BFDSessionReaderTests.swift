@testable import ECMPRouting
import XCTest

/// vtysh prints the two arrays of `show bfd peers json` and `show bfd
/// peers counters json` one after the other; the reader splits them.
final class BFDSessionReaderTests: XCTestCase {
    func testTwoArraysAreSplitAtTheFirstClosingBracket() {
        let output =
            "% a vtysh warning\n[\n  {\n    \"peer\":\"198.18.0.1\"\n  }\n]\n[\n  {\n    \"session-down\":0\n  }\n]\n"
        let (peers, counters) = BFDSessionReader.split(output)
        XCTAssertEqual(peers, "[\n  {\n    \"peer\":\"198.18.0.1\"\n  }\n]")
        XCTAssertEqual(counters, "[\n  {\n    \"session-down\":0\n  }\n]\n")
    }

    func testEmptyArraysOnOneOrTwoLines() {
        XCTAssertEqual(BFDSessionReader.split("[\n]\n[\n]\n").0, "[\n]")
        XCTAssertEqual(BFDSessionReader.split("[]\n[]\n").0, "[]")
        XCTAssertEqual(BFDSessionReader.split("[]\n[]\n").1, "[]\n")
    }

    func testNoSecondArrayMeansNoCounters() {
        XCTAssertNil(BFDSessionReader.split("[\n]\n").1)
        XCTAssertNil(BFDSessionReader.split("bfdd is not running").1)
    }

    func testArgvAsksBothInOneRunUnderThePathspace() {
        XCTAssertEqual(
            BFDSessionReader(vtysh: "/usr/bin/vtysh", pathspace: "lab").argv,
            ["/usr/bin/vtysh", "-N", "lab", "-c", "show bfd peers json", "-c", "show bfd peers counters json"])
    }
}
