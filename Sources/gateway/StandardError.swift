#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes one line to standard error, unbuffered, so it is not reordered against log output.
func printError(_ line: String) {
    let text = line + "\n"
    _ = text.withCString { fputs($0, stderr) }
}
