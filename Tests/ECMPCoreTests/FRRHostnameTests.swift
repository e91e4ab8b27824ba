import ECMPCore
import XCTest

final class FRRHostnameTests: XCTestCase {
    func testAnUnsetKernelHostnameNamesTheFieldToSet() throws {
        let message = try XCTUnwrap(FRRHostname.problem(configured: nil, system: "(none)"))
        XCTAssertTrue(message.contains("node.hostname"), message)
    }

    func testAConfiguredHostnameOverridesTheSystems() {
        XCTAssertNil(FRRHostname.problem(configured: "director-1", system: "(none)"))
    }

    func testAConfiguredHostnameMustStartWithALetterOrDigit() {
        XCTAssertNotNil(FRRHostname.problem(configured: "-bad", system: "director-1"))
        XCTAssertNotNil(FRRHostname.problem(configured: "", system: "director-1"))
    }

    func testOrdinaryNamesPass() {
        XCTAssertNil(FRRHostname.problem(configured: nil, system: "director-1"))
        XCTAssertNil(FRRHostname.problem(configured: nil, system: "9lives"))
    }
}
