import XCTest

@testable import JSON

final class JSONParserTests: XCTestCase {
    private func parse(_ text: String) -> [String: JSONValue]? {
        JSONParser.parseObject(Array(text.utf8))
    }

    func testParsesTheValuesClaimsUse() {
        let object = parse(
            #" { "s" : "a\"b\\c\/\n\u00e9\ud83d\ude00", "i": 1700000000, "f": -1.5e2, "t": true, "#
                + #""n": null, "a": ["x", 2, [], {}], "o": {"k": [1]} } "#)
        XCTAssertEqual(object?["s"], .string("a\"b\\c/\né😀"))
        XCTAssertEqual(object?["i"], .int(1_700_000_000))
        XCTAssertEqual(object?["f"], .double(-150))
        XCTAssertEqual(object?["t"], .bool(true))
        XCTAssertEqual(object?["n"], .null)
        XCTAssertEqual(object?["a"], .array([.string("x"), .int(2), .array([]), .object([:])]))
        XCTAssertEqual(object?["o"], .object(["k": .array([.int(1)])]))
    }

    func testRejectsWhatRFC8259Forbids() {
        for text in [
            "", "[]", "\"s\"", "{", "{\"a\":1,}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":+1}",
            "{\"a\":tru}", "{\"a\":\"\u{01}\"}", "{\"a\":\"\\x\"}", "{\"a\":\"\\ud800\"}", "{a:1}", "{\"a\":1} x",
            "{\"a\":1,\"a\":2}",
            "{\"a\":" + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + "}",
        ] {
            XCTAssertNil(parse(text), text)
        }
        XCTAssertNil(JSONParser.parseObject([0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D]), "invalid UTF-8")
    }
}
