import XCTest

@testable import GatewayCore

/// The config loader's fuzz target found a second way into toml++'s key-parser assertion (the first was `[[é]]`,
/// see ConfigLoaderFuzzRegressionTests): `parse_table_header` calls `parse_key` on whatever character follows `[` or
/// `[[` and any spaces/tabs, and `parse_key` asserts that it is a bare-key character or a quote. Any other ASCII
/// character there (`=`, `.`, `#`, `,`, `{`, `}`, `*`, `$`, `+`, `\`, a line break) ends the process with SIGABRT, so a
/// half-typed `[` line in gateway.conf ends `gateway check`, and a SIGHUP reload of it would end a running gateway.
/// Found by the 600-second run (benchmarks/results/fuzz-600s, crash-2c2e5fc4fc57c6176f64994703a33949206520e2).
///
/// `TOMLPreflight` rejects them before toml++ sees them; without it, each of these cases aborts the test process.
final class ConfigLoaderTableHeaderFuzzRegressionTests: XCTestCase {
    let loader = ConfigLoader(environment: [:])

    func testTheFuzzerInputIsASyntaxErrorNotAnAbort() {
        // The end of the crashing input, the header `[ = "30  s "` on its fourth line.
        let text = """
            [store]
            url = "sqlite://gateway.db"

            [ = "30  s "                   # whole upstream exchange; "0" = none (event streams)

            """
        XCTAssertEqual(tomlSyntaxErrorLine(text), 4)
    }

    func testATableHeaderThatDoesNotStartWithAKeyIsASyntaxErrorNotAnAbort() {
        for header in ["[=]", "[ =", "[.a]", "[#]", "[ ,]", "[{]", "[}]", "[*]", "[$]", "[+]", "[\\]", "[\t=]"] {
            XCTAssertEqual(tomlSyntaxErrorLine("[server]\nlisten = \"127.0.0.1:8080\"\n\(header)\n"), 3, header)
        }
        for header in ["[[=]]", "[[ .x]]", "[[#]]"] {
            XCTAssertEqual(tomlSyntaxErrorLine("\(header)\n"), 1, header)
        }
        XCTAssertEqual(tomlSyntaxErrorLine("  [=]\n"), 1)
    }

    func testAnOpenBracketAtTheEndOfALineIsASyntaxErrorNotAnAbort() {
        // The likeliest of them in practice: a header being typed, or cut short.
        XCTAssertEqual(tomlSyntaxErrorLine("[server]\nlisten = \"127.0.0.1:8080\"\n[\n"), 3)
        XCTAssertEqual(tomlSyntaxErrorLine("[\r\n"), 1)
        XCTAssertEqual(tomlSyntaxErrorLine("[[\n"), 1)
    }

    func testHeadersWithSpacesOrQuotedKeysAndArraysSpanningLinesAreNotSyntaxErrors() {
        // What a fix must keep accepting: `[` at a line's start inside a multi-line array value is an array, not a
        // header, and may be followed by a line break.
        let text = """
            [ server ]
            listen = "127.0.0.1:8080"
            [ "wechat" ]
            [[ 'routes' ]]
            prefix = "/api"
            upstreams = [
              "http://127.0.0.1:9001",
            ]
            [	tokens ]
            previous = [
              [
                "a"
              ],
              [ "b" ],
            ]

            """
        if case .failure(let error) = loader.parse(text: text) {
            XCTAssertFalse(error.issues.contains { $0.message.contains("TOML syntax error") }, "\(error.issues)")
        }
    }
}
