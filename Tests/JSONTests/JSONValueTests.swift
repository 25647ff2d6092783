import Foundation
import XCTest

@testable import JSON

final class JSONValueTests: XCTestCase {
    func testParsesEachKindAndKeepsBoolsApartFromNumbers() throws {
        let value = try XCTUnwrap(
            JSONValue.parse(Data(#"{"a":true,"b":1,"c":1.5,"d":"x","e":null,"f":[1,"2"]}"#.utf8)))
        XCTAssertEqual(value["a"], .bool(true))
        XCTAssertEqual(value["b"], .int(1))
        XCTAssertEqual(value["c"], .double(1.5))
        XCTAssertEqual(value["d"], .string("x"))
        XCTAssertEqual(value["e"], .null)
        XCTAssertEqual(value["f"], .array([.int(1), .string("2")]))
    }

    func testIntValueAcceptsDigitStrings() {
        XCTAssertEqual(JSONValue.string("40029").intValue, 40029)
        XCTAssertEqual(JSONValue.int(-1).intValue, -1)
        XCTAssertNil(JSONValue.string("abc").intValue)
    }

    func testNotJSONParsesToNil() {
        XCTAssertNil(JSONValue.parse(Data("<html>".utf8)))
    }

    func testEncodingRoundTrips() throws {
        let value = JSONValue.object(["k": .array([.int(1), .bool(false), .string("微信/+")])])
        XCTAssertEqual(JSONValue.parse(value.serialized()), value)
    }
}
