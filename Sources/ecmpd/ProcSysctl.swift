import ECMPCore
import Foundation

/// Reads and writes the real server's ARP sysctls through /proc/sys (per
/// network namespace), the same files sysctl(8) uses.
enum ProcSysctl {
    struct Failure: Error, CustomStringConvertible {
        var operation: String
        var sysctl: RealServerSysctl
        var reason: String
        var description: String { "\(operation) \(sysctl.key) (\(sysctl.path)): \(reason)" }
    }

    static func read(_ sysctl: RealServerSysctl) throws(Failure) -> Int {
        guard let data = FileManager.default.contents(atPath: sysctl.path) else {
            throw Failure(
                operation: "read", sysctl: sysctl,
                reason: String(cString: strerror(access(sysctl.path, F_OK) == 0 ? EACCES : errno)))
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let value = Int(text) else {
            throw Failure(operation: "read", sysctl: sysctl, reason: "not a number: '\(text)'")
        }
        return value
    }

    /// Every one of the four settings that can be read; a missing one is
    /// left out (status reports it as unreadable).
    static func readAll() -> [RealServerSysctl: Int] {
        var values: [RealServerSysctl: Int] = [:]
        for sysctl in RealServerSysctl.all { values[sysctl] = try? read(sysctl) }
        return values
    }

    static func write(_ sysctl: RealServerSysctl, _ value: Int) throws(Failure) {
        let descriptor = open(sysctl.path, O_WRONLY | O_TRUNC)
        guard descriptor >= 0 else {
            throw Failure(operation: "write \(value) to", sysctl: sysctl, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        let text = Array("\(value)\n".utf8)
        let written = text.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
        guard written == text.count else {
            throw Failure(
                operation: "write \(value) to", sysctl: sysctl,
                reason: String(cString: strerror(written < 0 ? errno : EIO)))
        }
    }
}
