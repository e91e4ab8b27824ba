/// The ecmpd release, written into generated files and `--version`.
public enum ECMPDVersion {
    public static let current = "0.1.0"
}
