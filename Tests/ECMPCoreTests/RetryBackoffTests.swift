import ECMPCore
import XCTest

final class RetryBackoffTests: XCTestCase {
    func testDelayDoublesFromBaseAfterEachFailureUpToTheCap() {
        let backoff = RetryBackoff(base: .seconds(2), cap: .seconds(60))
        XCTAssertEqual(
            (0...8).map { backoff.delay(afterFailures: $0) },
            [
                .zero, .seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(32), .seconds(60), .seconds(60),
                .seconds(60),
            ])
    }

    func testAVeryLongRunOfFailuresStaysAtTheCap() {
        XCTAssertEqual(RetryBackoff().delay(afterFailures: 10_000), .seconds(60))
    }
}
