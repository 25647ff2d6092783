import XCTest

@testable import CurlHTTP

final class CurlTransferStateMachineTests: XCTestCase {
    private typealias Machine = CurlTransfer.StateMachine

    private func line(
        _ machine: inout Machine, _ text: String, stop: CurlTransfer.StopReason = .none
    )
        -> Machine.CallbackAction
    {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBytes { machine.headerLine(UnsafeRawBufferPointer($0), stop: stop) }
    }

    private func started() -> Machine {
        var machine = Machine()
        XCTAssertEqual(machine.start(stop: .none), .addHandle)
        return machine
    }

    private func streaming() -> Machine {
        var machine = started()
        XCTAssertEqual(line(&machine, "HTTP/1.1 200 OK\r\n"), .proceed)
        XCTAssertEqual(line(&machine, "\r\n"), .deliverHead)
        XCTAssertEqual(machine.head?.status, 200)
        machine.headDelivered()
        return machine
    }

    func testHeadThenBodyThenSuccess() {
        var machine = streaming()
        XCTAssertEqual(machine.bodyPart(stop: .none, paused: false), .deliverBodyPart)
        XCTAssertEqual(line(&machine, "X-Trailer: 1\r\n"), .proceed, "trailers are ignored")
        XCTAssertEqual(machine.curlDone(code: 0, message: "", stop: .none, requestWasSent: true), .some(nil))
    }

    func testBodyBeforeHeadAbortsAsBrokenResponse() {
        // libcurl passes what follows an unasked-for 101 on as body.
        var machine = started()
        XCTAssertEqual(line(&machine, "HTTP/1.1 101 Switching Protocols\r\n"), .proceed)
        XCTAssertEqual(line(&machine, "\r\n"), .proceed)
        XCTAssertEqual(machine.bodyPart(stop: .none, paused: false), .abort)
        guard
            case .some(.some(.brokenResponse)) = machine.curlDone(
                code: 23, message: "", stop: .none, requestWasSent: true)
        else { return XCTFail() }
    }

    func testPausedResponseHoldsBodyParts() {
        var machine = streaming()
        XCTAssertEqual(machine.bodyPart(stop: .none, paused: true), .pause)
    }

    func testStopRequestAbortsCallbacksAndWinsOverCurlsError() {
        var machine = streaming()
        XCTAssertEqual(machine.bodyPart(stop: .cancelled, paused: false), .abort)
        XCTAssertEqual(
            machine.curlDone(code: 23, message: "write error", stop: .cancelled, requestWasSent: true),
            .some(.cancelled)
        )
        XCTAssertEqual(machine.stop(.cancelled), .none, "already finished: no second finish")
    }

    func testStopWhileRunningRemovesTheHandleOnce() {
        var machine = streaming()
        XCTAssertEqual(machine.stop(.cancelled), .removeHandleAndFinish(.cancelled))
        XCTAssertEqual(machine.stop(.cancelled), .none)
        XCTAssertEqual(machine.curlDone(code: 0, message: "", stop: .cancelled, requestWasSent: true), .none)
    }

    func testStopBeforeStartFinishesWithoutAHandle() {
        var machine = Machine()
        XCTAssertEqual(
            machine.start(stop: .bodyAborted), .finish(.requestBodyFailed("the request body producer aborted")))
        var queued = Machine()
        XCTAssertEqual(queued.stop(.cancelled), .finish(.cancelled))
    }

    func testSuccessWithoutHeadIsBroken() {
        var machine = started()
        guard
            case .some(.some(.brokenResponse)) = machine.curlDone(
                code: 0, message: "", stop: .none, requestWasSent: true)
        else { return XCTFail() }
    }

    func testMalformedHeaderAbortsAsBrokenResponse() {
        var machine = started()
        XCTAssertEqual(line(&machine, "garbage\r\n"), .abort)
        guard
            case .some(.some(.brokenResponse)) = machine.curlDone(
                code: 23, message: "", stop: .none, requestWasSent: true)
        else { return XCTFail() }
    }

    func testCurlErrorsAreClassified() {
        var machine = started()
        XCTAssertEqual(
            machine.curlDone(code: 7, message: "refused", stop: .none, requestWasSent: false),
            .some(.couldNotConnect("refused"))
        )
    }
}

final class CurlErrorClassificationTests: XCTestCase {
    func testCodesMapToWhatTheProxyDoes() {
        XCTAssertEqual(CurlError(curlCode: 7, message: "m", requestWasSent: false), .couldNotConnect("m"))
        XCTAssertEqual(CurlError(curlCode: 6, message: "m", requestWasSent: false), .couldNotConnect("m"))
        XCTAssertEqual(CurlError(curlCode: 60, message: "m", requestWasSent: false), .couldNotConnect("m"))
        XCTAssertEqual(CurlError(curlCode: 28, message: "m", requestWasSent: true), .timedOut("m"))
        XCTAssertEqual(CurlError(curlCode: 28, message: "m", requestWasSent: false), .timedOut("m"))
        XCTAssertEqual(CurlError(curlCode: 18, message: "m", requestWasSent: true), .brokenResponse("m"))
        XCTAssertEqual(CurlError(curlCode: 56, message: "m", requestWasSent: true), .brokenResponse("m"))
        XCTAssertEqual(CurlError(curlCode: 55, message: "m", requestWasSent: false), .couldNotConnect("m"))
        XCTAssertEqual(CurlError(curlCode: 26, message: "m", requestWasSent: true), .requestBodyFailed("m"))
        XCTAssertEqual(CurlError(curlCode: 3, message: "m", requestWasSent: false), .other(code: 3, "m"))
        guard case .brokenResponse = CurlError(curlCode: 27, message: "Out of memory", requestWasSent: true)
        else { return XCTFail("an oversized response head is a broken answer") }
        XCTAssertEqual(CurlError(curlCode: 1, message: "m", requestWasSent: true), .brokenResponse("m"))
        XCTAssertEqual(CurlError(curlCode: 1, message: "m", requestWasSent: false), .other(code: 1, "m"))
    }

    func testConnectionLimitsAreSharedOverThreads() {
        XCTAssertEqual(CurlClientConfiguration.perThreadShare(of: 0, threads: 4), 0)
        XCTAssertEqual(CurlClientConfiguration.perThreadShare(of: 10, threads: 4), 3)
        XCTAssertEqual(CurlClientConfiguration.perThreadShare(of: 1, threads: 4), 1)
        XCTAssertEqual(CurlClientConfiguration.perThreadShare(of: 8, threads: 0), 8)
    }
}
