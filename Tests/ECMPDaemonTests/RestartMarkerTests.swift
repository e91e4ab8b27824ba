import ECMPDaemon
import Foundation
import XCTest

final class RestartMarkerTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "restart-marker-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func testNoMarkerMeansAnOrdinaryStop() {
        XCTAssertFalse(RestartMarker(stateDirectory: directory).consume())
    }

    func testAFreshMarkerHoldsForOneStopOnly() {
        let marker = RestartMarker(stateDirectory: directory)
        XCTAssertTrue(FileManager.default.createFile(atPath: marker.path, contents: Data()))
        XCTAssertTrue(marker.consume())
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker.path))
        XCTAssertFalse(marker.consume())
    }

    func testAStaleMarkerIsRemovedAndIgnored() {
        let marker = RestartMarker(stateDirectory: directory)
        XCTAssertTrue(FileManager.default.createFile(atPath: marker.path, contents: Data()))
        XCTAssertFalse(marker.consume(now: Date().addingTimeInterval(3600)))
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker.path))
    }

    /// The postinst writes /var/lib/ecmpd/restart-pending; a director with
    /// its own node.state_dir sees it too, and each marker holds once.
    func testThePackagesMarkerCountsForAnotherStateDirectory() throws {
        let package = directory + "/package", own = directory + "/own"
        for path in [package, own] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        let marker = RestartMarker(stateDirectory: package)
        XCTAssertTrue(FileManager.default.createFile(atPath: marker.path, contents: Data()))
        XCTAssertTrue(RestartMarker.consumeAny(stateDirectory: own, packageStateDirectory: package))
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker.path))
        XCTAssertFalse(RestartMarker.consumeAny(stateDirectory: own, packageStateDirectory: package))
        XCTAssertTrue(FileManager.default.createFile(atPath: RestartMarker(stateDirectory: own).path, contents: Data()))
        XCTAssertTrue(RestartMarker.consumeAny(stateDirectory: own + "/", packageStateDirectory: package))
    }
}
