import Foundation

/// Reads the OSPF message-digest key. The key never appears in logs or
/// output; a key file others can read is refused, since anyone holding the
/// key can inject routes.
///
/// The file is opened first and its mode checked on the open descriptor,
/// so what is checked is what is read (no swap between stat and read); a
/// symbolic link is refused rather than followed, so the check is on the
/// file the operator named and not on whatever the link points to now.
public enum OSPFKeyFile {
    /// A key file is at most a line; anything bigger is not one.
    static let sizeLimit = 4096

    public static func read(_ path: String) throws(RoutingFileError) -> String {
        // O_NONBLOCK: a FIFO put in the key's place must not hang the
        // daemon in open(); fstat then refuses it as not a regular file.
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            // O_NOFOLLOW fails a final symlink with ELOOP.
            let reason =
                errno == ELOOP
                ? "is a symbolic link; point key_file at the file itself" : String(cString: strerror(errno))
            throw .keyFile(path: path, reason: reason)
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw .keyFile(path: path, reason: String(cString: strerror(errno)))
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .keyFile(path: path, reason: "not a regular file") }
        guard info.st_mode & 0o007 == 0 else {
            throw .keyFile(
                path: path,
                reason:
                    "others may read or change it (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 0600 or 0640")
        }
        guard Int(info.st_size) <= sizeLimit else {
            throw .keyFile(path: path, reason: "\(info.st_size) bytes is not a key (at most 16 characters)")
        }
        var buffer = [UInt8](repeating: 0, count: sizeLimit)
        let count = buffer.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, sizeLimit) }
        guard count >= 0 else { throw .keyFile(path: path, reason: String(cString: strerror(errno))) }
        guard let text = String(validating: buffer.prefix(count), as: UTF8.self) else {
            throw .keyFile(path: path, reason: "cannot read it as UTF-8 text")
        }
        let key = text.trimmingCharacters(in: .whitespacesAndNewlines)
        // RFC 2328 D.3: the MD5 key is 16 octets; FRR takes up to 16 characters.
        guard (1...16).contains(key.utf8.count),
            key.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7f })
        else {
            throw .keyFile(path: path, reason: "the key must be 1-16 printable ASCII characters without spaces")
        }
        return key
    }
}
