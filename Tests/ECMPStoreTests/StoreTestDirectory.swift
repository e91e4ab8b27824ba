import Foundation

/// A private directory under the system temporary directory, removed by `remove()`.
struct StoreTestDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "ecmpd-store-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
