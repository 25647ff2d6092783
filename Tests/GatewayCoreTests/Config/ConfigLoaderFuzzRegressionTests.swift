import XCTest

@testable import GatewayCore

/// Inputs the config loader's fuzz target (Fuzz/Sources/FuzzConfigLoader) found; each once ended the process.
final class ConfigLoaderFuzzRegressionTests: XCTestCase {
    let loader = ConfigLoader(environment: [:])

    func testNonASCIIArrayOfTablesHeaderIsASyntaxErrorNotAnAbort() {
        // toml++ asserted (SIGABRT) in parse_key on `[[` followed by a non-ASCII character: `gateway check` crashed,
        // and a SIGHUP reload of such a file would have ended a running gateway.
        XCTAssertEqual(
            tomlSyntaxErrorLine("[server]\nlisten = \"127.0.0.1:8080\"\n[[\u{FFFD}echat.apps]]\nappid = \"wx1\"\n"), 3)
        XCTAssertEqual(tomlSyntaxErrorLine("[[é]]\n"), 1)
        XCTAssertEqual(tomlSyntaxErrorLine("é = 1\n"), 1)
    }

    func testNonASCIIInStringsAndCommentsIsStillFine() throws {
        let text = """
            # commentaire: é 微信
            [server]
            listen = "127.0.0.1:8080" # 本地
            [wechat]
            [[wechat.apps]]
            appid = "wx0000000000000001"
            secret = 'sé"cret'
            [tokens]
            secret = \"\"\"0123456789abcdef0123456789abcdef-é\"\"\"
            [[routes]]
            prefix = "/api/é"
            upstreams = ["http://127.0.0.1:9001"]
            """
        switch loader.parse(text: text) {
        case .success(let config): XCTAssertEqual(config.wechat.apps.first?.secret, "sé\"cret")
        case .failure(let error): XCTFail("\(error.issues)")
        }
        XCTAssertNil(
            TOMLPreflight.firstNonASCIIOutsideStrings("a = \"x\\\"é\"\nb = '''\né\n'''\nc = \"\"\"\né\\\n\"\"\"\n"))
    }
}
