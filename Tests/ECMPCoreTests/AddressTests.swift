@testable import ECMPCore
import XCTest

final class AddressTests: XCTestCase {
    func testIPv4ParsingIsStrict() {
        XCTAssertEqual(IPv4Address("198.18.0.1")?.description, "198.18.0.1")
        for bad in ["198.18.0", "198.18.0.256", "198.018.0.1", "1.2.3.4.5", "", "a.b.c.d", "1..2.3", " 1.2.3.4"] {
            XCTAssertNil(IPv4Address(bad), bad)
        }
    }

    func testNetworkClearsHostBits() {
        XCTAssertEqual(IPv4Network("198.18.5.77/22")?.network.description, "198.18.4.0/22")
        XCTAssertEqual(IPv4Network("198.18.0.1")?.prefixLength, 32)
        XCTAssertNil(IPv4Network("198.18.0.1/33"))
    }

    func testIPv6RoundTripsInRFC5952Form() {
        XCTAssertEqual(IPv6Address("2001:DB8:0:0:0:0:0:1")?.description, "2001:db8::1")
        XCTAssertEqual(IPv6Address("::")?.description, "::")
        XCTAssertEqual(IPv6Address("::ffff:198.18.0.1")?.description, "::ffff:c612:1")
        XCTAssertNil(IPv6Address("1::2::3"))
        XCTAssertNil(IPv6Address("12345::"))
    }

    func testDurations() {
        XCTAssertEqual(DurationParser.parse("500ms"), .milliseconds(500))
        XCTAssertEqual(DurationParser.parse("1.5s"), .milliseconds(1500))
        XCTAssertEqual(DurationParser.parse("2m"), .seconds(120))
        XCTAssertEqual(DurationParser.parse("3"), .seconds(3))
        XCTAssertNil(DurationParser.parse("-1s"))
        XCTAssertNil(DurationParser.parse("1.2.3s"))
        XCTAssertEqual(DurationParser.format(.milliseconds(1500)), "1500ms")
    }

    func testPercentThresholdRoundsUp() {
        XCTAssertEqual(BackendThreshold.percent(50).required(ofTotal: 3), 2)
        XCTAssertEqual(BackendThreshold.percent(10).required(ofTotal: 1), 1)
        XCTAssertEqual(BackendThreshold.count(2).required(ofTotal: 10), 2)
    }
}
