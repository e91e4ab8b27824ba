import Foundation
import XCTest

/// Golden files under Tests/ECMPCoreTests/Fixtures and the repository's
/// templates, found from this file's path. `ECMPD_UPDATE_GOLDEN=1`
/// rewrites goldens instead of comparing (review the diff like code).
enum FixtureFiles {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let repository = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()

    static func fixture(_ relativePath: String) -> URL {
        testsDirectory.appendingPathComponent("Fixtures/\(relativePath)")
    }

    static func read(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

    static func assertGolden(
        _ actual: String, _ relativePath: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let url = fixture(relativePath)
        if ProcessInfo.processInfo.environment["ECMPD_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try actual.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let expected = try read(url)
        XCTAssertEqual(
            actual, expected, "differs from golden \(relativePath); rerun with ECMPD_UPDATE_GOLDEN=1 and review",
            file: file, line: line)
    }
}
