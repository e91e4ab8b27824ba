import ECMPNetlink
import XCTest

/// Runs alone in the VM boot without ip_vs (`run-in-vm.sh --no-ipvs`, with
/// ECMPD_EXPECT_NO_IPVS=1): the client must say the module is missing, not
/// fail in some generic way. In the normal boot ip_vs is loaded, so there is
/// nothing to test and it skips.
final class IPVSNoModuleTests: XCTestCase {
    func testClientSaysTheKernelHasNoIPVS() throws {
        try KernelTier.requireVM()
        guard KernelTier.expectsNoIPVS else {
            throw XCTSkip("runs in the --no-ipvs boot only (ECMPD_EXPECT_NO_IPVS=1)")
        }
        XCTAssertThrowsError(try IPVSClient()) { error in
            guard let error = error as? NetlinkError else { return XCTFail("\(error)") }
            XCTAssertTrue(error.isIPVSUnavailable, "\(error)")
            XCTAssertEqual(error.errno, ENOENT)
            XCTAssertEqual(
                error.description,
                "resolve generic netlink family IPVS: the kernel has no IPVS: load the ip_vs module (modprobe ip_vs)")
        }
    }
}
