import ECMPCore
import XCTest

final class FileTrustTests: XCTestCase {
    private let service = FileTrust(effectiveUser: 998)

    func testTrustsOnlyItsOwnUserAndRoot() {
        XCTAssertTrue(service.trusts(owner: 998))
        XCTAssertTrue(service.trusts(owner: 0))
        XCTAssertFalse(service.trusts(owner: 65534))
    }

    func testAStateDirectoryOwnedByItsUserWithMode0700Or0755IsSafe() {
        XCTAssertNil(service.problem(directoryOwner: 998, mode: 0o40700, isStateDirectory: true))
        XCTAssertNil(service.problem(directoryOwner: 998, mode: 0o40755, isStateDirectory: true))
        XCTAssertNil(service.problem(directoryOwner: 0, mode: 0o40755, isStateDirectory: true))
    }

    func testAStateDirectoryGroupOrOthersCanWriteIsRefusedEvenWithTheStickyBit() {
        XCTAssertEqual(service.problem(directoryOwner: 998, mode: 0o40770, isStateDirectory: true), .writableByOthers)
        XCTAssertEqual(service.problem(directoryOwner: 998, mode: 0o40702, isStateDirectory: true), .writableByOthers)
        XCTAssertEqual(service.problem(directoryOwner: 0, mode: 0o41777, isStateDirectory: true), .writableByOthers)
    }

    func testAParentWithTheStickyBitLikeTmpIsSafeButOneWithoutItIsNot() {
        XCTAssertNil(service.problem(directoryOwner: 0, mode: 0o41777, isStateDirectory: false))
        XCTAssertEqual(service.problem(directoryOwner: 0, mode: 0o40777, isStateDirectory: false), .writableByOthers)
    }

    func testADirectoryOwnedByAnotherUserIsRefusedWhateverItsMode() {
        let other = FileTrust.DirectoryProblem.ownedByAnotherUser
        XCTAssertEqual(service.problem(directoryOwner: 65534, mode: 0o40700, isStateDirectory: true), other)
        XCTAssertEqual(service.problem(directoryOwner: 1000, mode: 0o40755, isStateDirectory: false), other)
    }
}
