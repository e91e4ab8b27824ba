/// The ecmpd release, written into generated files and `--version`.
///
/// `make release` and `make deb` bake in `git describe` (scripts/version.sh):
/// they write BuildVersion.swift beside this file (not in git) and build with
/// ECMPD_VERSION set, which makes Package.swift define ECMPD_BUILD_VERSION.
/// Swift has no value-carrying -D, and a plain `swift build` of a fresh
/// clone must not need the generated file, hence the condition.
public enum ECMPDVersion {
    #if ECMPD_BUILD_VERSION
        public static let current = ECMPDBuildVersion.describe
    #else
        public static let current = "0.1.0-dev"
    #endif
}
