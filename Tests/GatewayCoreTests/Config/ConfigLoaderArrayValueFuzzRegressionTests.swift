import XCTest

@testable import GatewayCore

/// A third way into a toml++ assertion (SIGABRT) on all-ASCII config text, found by the config loader's fuzz target
/// (the 600-second fork-mode run in benchmarks/results/fuzz-600s, crash-9169ab2e9680bc8dd50666e350bbb36860fdfb11):
/// `parse_array` hands a `}` where a value should start (after `[` or `,`, and any spaces, line breaks or comments)
/// to `parse_value`, which asserts (debug) or assumes (release) that it is not a value terminator. A mistyped
/// bracket such as `upstreams = [}` ends `gateway check`, and a SIGHUP reload of it would end a running gateway.
/// The other terminators are the array loop's own errors (`[,]`, `[1,,]`) or skipped (`#`, spaces).
///
/// `TOMLPreflight` rejects them before toml++ sees them; without it, each of these cases aborts the test process.
final class ConfigLoaderArrayValueFuzzRegressionTests: XCTestCase {
    let loader = ConfigLoader(environment: [:])

    func testTheFuzzerInputIsASyntaxErrorNotAnAbort() {
        // The end of the crashing input: a `}` where the array's first value should be.
        let text = """
            [[routes]]
            prefix = "/api/"
            upstreams = [}"1methkds = ["get"]
            auth = "optional"

            """
        XCTAssertEqual(tomlSyntaxErrorLine(text), 3)
    }

    func testAClosingBraceWhereAnArrayValueShouldStartIsASyntaxErrorNotAnAbort() {
        // The line reported is the brace's.
        for value in ["[}]", "[}", "[ }]", "[1, }]", "[[}]]", "[{ a = [}] }]", "[ # comment\n}]", "[\n}\n]"] {
            let line = value.contains("\n") ? 4 : 3
            XCTAssertEqual(tomlSyntaxErrorLine("[server]\nlisten = \"127.0.0.1:8080\"\nx = \(value)\n"), line, value)
        }
    }

    func testBracesInsideArraysThatAreNotInAValuePositionAreNotSyntaxErrors() {
        // What a fix must keep accepting: inline tables as array values, and `}` inside strings or comments.
        let text = #"""
            [server]
            listen = "127.0.0.1:8080"
            x = [{ a = 1 }, { b = "}" },]
            y = [ # }
              '}',
              """
            }
            """,
            ]

            """#
        if case .failure(let error) = loader.parse(text: text) {
            XCTAssertFalse(error.issues.contains { $0.message.contains("TOML syntax error") }, "\(error.issues)")
        }
    }
}
