@testable import ECMPCore
import XCTest

/// RFC 1321's test suite (appendix A.5), and the same digest fed in pieces.
final class MD5Tests: XCTestCase {
    func testRFC1321Vectors() {
        let vectors = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
            (String(repeating: "1234567890", count: 8), "57edf4a22be3c955ac49da2e2107b67a"),
        ]
        for (text, digest) in vectors {
            XCTAssertEqual(MD5.hexDigest(of: Array(text.utf8)), digest, text)
        }
    }

    func testPiecesGiveTheSameDigestAsTheWhole() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var md5 = MD5()
        var index = 0
        for size in [1, 63, 64, 65, 7, 300, 500] where index < bytes.count {
            let end = min(bytes.count, index + size)
            md5.update(bytes[index..<end])
            index = end
        }
        XCTAssertEqual(md5.hexDigest(), MD5.hexDigest(of: bytes))
    }
}
