import Foundation

/// Reads the OSPF message-digest key. The key never appears in logs or
/// output; a key file others can read is refused, since anyone holding the
/// key can inject routes.
public enum OSPFKeyFile {
    public static func read(_ path: String) throws(RoutingFileError) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .keyFile(path: path, reason: String(cString: strerror(errno)))
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .keyFile(path: path, reason: "not a regular file") }
        guard info.st_mode & 0o007 == 0 else {
            throw .keyFile(path: path, reason: "readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 0600 or 0640")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw .keyFile(path: path, reason: "cannot read it as UTF-8 text")
        }
        let key = text.trimmingCharacters(in: .whitespacesAndNewlines)
        // RFC 2328 D.3: the MD5 key is 16 octets; FRR takes up to 16 characters.
        guard (1...16).contains(key.utf8.count),
              key.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7f }) else {
            throw .keyFile(path: path, reason: "the key must be 1-16 printable ASCII characters without spaces")
        }
        return key
    }
}
