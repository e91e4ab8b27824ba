import Glibc

public enum HostName {
    /// The short host name (up to the first dot), as FRR's `hostname` line
    /// and the history's records use it.
    public static func system() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        let name = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return name.split(separator: ".").first.map(String.init) ?? name
    }
}
