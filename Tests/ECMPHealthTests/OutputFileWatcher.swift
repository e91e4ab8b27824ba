import Foundation

/// Samples, from /proc/self/fd, the disk use of every open unlinked
/// `ecmpd-output-*` file (ProcessRunner's output files) and keeps the peak.
final class OutputFileWatcher: @unchecked Sendable {
    struct Peak { var allocated = 0, size = 0, samples = 0 }
    private let lock = NSLock()
    private var peak = Peak()
    private var stopped = false

    func watch() {
        while !lock.withLock({ stopped }) {
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
                let link = "/proc/self/fd/\(entry)"
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link),
                    target.contains("/ecmpd-output-"), target.hasSuffix("(deleted)")
                else { continue }
                var info = stat()
                guard stat(link, &info) == 0 else { continue }
                lock.withLock {
                    peak.allocated = max(peak.allocated, Int(info.st_blocks) * 512)
                    peak.size = max(peak.size, Int(info.st_size))
                    peak.samples += 1
                }
            }
            usleep(1_000)
        }
    }

    func stop() -> Peak {
        lock.withLock {
            stopped = true
            return peak
        }
    }
}
