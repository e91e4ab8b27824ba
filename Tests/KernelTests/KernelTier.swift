import ECMPCore
import ECMPNetlink
import Foundation
import XCTest

/// What every kernel-tier test needs: to run inside the qemu VM that
/// Tests/kernel/run-in-vm.sh boots (Debian's kernel, ip_vs loaded, root).
///
/// Outside the VM (a developer's plain `swift test`) these tests skip with
/// that instruction; inside it nothing is skipped: a missing ip_vs, ipvsadm
/// or root fails the test, so a broken VM cannot pass as green.
enum KernelTier {
    static var isInVM: Bool { ProcessInfo.processInfo.environment["ECMPD_VM"] == "1" }

    /// Set by the `--no-ipvs` boot, where only `IPVSNoModuleTests` runs.
    static var expectsNoIPVS: Bool { ProcessInfo.processInfo.environment["ECMPD_EXPECT_NO_IPVS"] == "1" }

    static func requireVM() throws {
        guard isInVM else {
            throw XCTSkip(
                "kernel tier: runs inside the VM, e.g. Tests/kernel/run-in-vm.sh -- "
                    + "Tests/kernel/xctest.sh KernelTests")
        }
    }
}

/// Base class for tests that program IPVS: each starts and ends with an
/// empty table (`ipvsadm -C`), so tests do not see each other's services.
class IPVSKernelTestCase: XCTestCase {
    var client: IPVSClient!

    override func setUpWithError() throws {
        try super.setUpWithError()
        try KernelTier.requireVM()
        try Ipvsadm.clear()
        client = try IPVSClient()
    }

    override func tearDownWithError() throws {
        client = nil
        if KernelTier.isInVM { try Ipvsadm.clear() }
        try super.tearDownWithError()
    }

    /// Asserts two tables program the same thing, service by service and
    /// destination by destination, so a failure names the field that differs.
    func assertSameConfiguration(
        _ actual: IPVSTable, _ expected: IPVSTable, _ context: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let actual = actual.configuration, expected = expected.configuration
        XCTAssertEqual(
            actual.services.map(\.identity), expected.services.map(\.identity),
            "\(context): services", file: file, line: line)
        for want in expected.entries {
            guard let have = actual[want.service.identity] else { continue }
            XCTAssertEqual(have.service, want.service, "\(context): \(want.service.identity)", file: file, line: line)
            XCTAssertEqual(
                have.destinations.map(\.key), want.destinations.map(\.key),
                "\(context): destinations of \(want.service.identity)", file: file, line: line)
            for destination in want.destinations {
                guard let other = have.destinations.first(where: { $0.key == destination.key }) else { continue }
                XCTAssertEqual(
                    other, destination, "\(context): \(destination.key) of \(want.service.identity)",
                    file: file, line: line)
            }
        }
    }
}
