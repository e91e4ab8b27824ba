import Foundation

/// Files of this repository (templates, deploy/ files), found from this
/// source file's path, so tests read what ships.
public enum FixtureRepository {
    public static func url(_ relative: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent(relative)
    }
}
