// Drives CurlHTTP the way benchmarks/curlhttp/multi_bench.c drives curl multi: `concurrency` GET requests in flight
// on one event thread, each completion starting the next one, until `total` have finished; prints requests/s.
//
//   curlhttp-bench URL CONCURRENCY TOTAL [THREADS]
//
// With `rss`, it instead uploads and downloads BYTES at the same time (the upload generated on the fly, the download
// thrown away) and prints the process's peak RSS (VmHWM) before and after:
//
//   curlhttp-bench rss DOWNLOAD_URL UPLOAD_URL BYTES
import CurlHTTP
import Foundation
import NIOCore

final class Runner: CurlTransferDelegate, @unchecked Sendable {
    let client: CurlClient
    let request: CurlRequest
    let total: Int
    private let lock = NSLock()
    private var started = 0
    private var finished = 0
    private var failures = 0
    private var bytes = 0
    private let done = DispatchSemaphore(value: 0)

    init(client: CurlClient, request: CurlRequest, total: Int) {
        self.client = client
        self.request = request
        self.total = total
    }

    func startOne() {
        lock.lock()
        guard started < total else {
            lock.unlock()
            return
        }
        started += 1
        lock.unlock()
        _ = client.execute(request, delegate: self)
    }

    func transfer(_ t: CurlTransfer, didReceiveHead head: CurlResponseHead) {}

    func transfer(_ t: CurlTransfer, didReceiveBodyPart part: ByteBuffer) {
        lock.lock()
        bytes += part.readableBytes
        lock.unlock()
    }

    func transferCanAcceptMoreBody(_ t: CurlTransfer) {}

    func transfer(_ t: CurlTransfer, didFinishWith error: CurlError?, info: CurlTransferInfo) {
        lock.lock()
        finished += 1
        if error != nil { failures += 1 }
        let all = finished == total
        lock.unlock()
        if all { done.signal() } else { startOne() }
    }

    func wait() -> (failures: Int, bytes: Int) {
        done.wait()
        lock.lock()
        defer { lock.unlock() }
        return (failures, bytes)
    }
}

/// Streams a generated upload, or counts a download, and signals when done.
final class BulkTransfer: CurlTransferDelegate, @unchecked Sendable {
    private let lock = NSLock()
    private var toSend: Int
    private let block = ByteBuffer(repeating: 0x61, count: 64 * 1024)
    private(set) var received = 0
    private(set) var status = 0
    private(set) var error: CurlError?
    private(set) var sent = 0
    let done = DispatchSemaphore(value: 0)

    init(toSend: Int) { self.toSend = toSend }

    func produce(_ t: CurlTransfer) {
        lock.lock()
        defer { lock.unlock() }
        while toSend > 0 {
            let n = min(toSend, block.readableBytes)
            toSend -= n
            if !t.writeBody(block.getSlice(at: 0, length: n)!) { break }
        }
        if toSend == 0 { t.finishBody() }
    }

    func transfer(_ t: CurlTransfer, didReceiveHead head: CurlResponseHead) { status = head.status }
    func transfer(_ t: CurlTransfer, didReceiveBodyPart part: ByteBuffer) { received += part.readableBytes }
    func transferCanAcceptMoreBody(_ t: CurlTransfer) { produce(t) }
    func transfer(_ t: CurlTransfer, didFinishWith error: CurlError?, info: CurlTransferInfo) {
        self.error = error
        sent = info.requestBodyBytes
        done.signal()
    }
}

func statusField(_ name: String) -> Int {
    let text = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = text.split(separator: "\n").first { $0.hasPrefix(name + ":") } ?? ""
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
}

let arguments = CommandLine.arguments
if arguments.count == 5, arguments[1] == "rss", let size = Int(arguments[4]) {
    let client = try CurlClient()
    let before = statusField("VmHWM")
    let down = BulkTransfer(toSend: 0)
    _ = client.execute(CurlRequest(url: arguments[2], timeoutMilliseconds: 0), delegate: down)
    let up = BulkTransfer(toSend: size)
    let upload = client.execute(
        CurlRequest(method: "POST", url: arguments[3], body: .streamed(length: size), timeoutMilliseconds: 0),
        delegate: up
    )
    up.produce(upload)
    down.done.wait()
    up.done.wait()
    let after = statusField("VmHWM")
    print("curlhttp rss: download \(down.received) bytes (status \(down.status), error \(String(describing: down.error)));"
        + " upload \(up.sent) bytes (status \(up.status), error \(String(describing: up.error)));"
        + " VmHWM \(before) KiB before, \(after) KiB after, growth \((after - before) / 1024) MiB")
    client.shutdown()
    exit(down.error == nil && up.error == nil ? 0 : 1)
}
guard arguments.count >= 4, let concurrency = Int(arguments[2]), let total = Int(arguments[3]) else {
    FileHandle.standardError.write("usage: curlhttp-bench URL CONCURRENCY TOTAL [THREADS]\n".data(using: .utf8)!)
    exit(2)
}
let threads = arguments.count > 4 ? Int(arguments[4]) ?? 1 : 1
let client = try CurlClient(configuration: .init(threads: threads))
let runner = Runner(client: client, request: CurlRequest(url: arguments[1]), total: total)
let start = DispatchTime.now()
for _ in 0..<min(concurrency, total) { runner.startOne() }
let (failures, bytes) = runner.wait()
let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
print(String(format: "curlhttp: %d requests in %.3f s = %.0f req/s (%d failed, %d body bytes)",
             total, seconds, Double(total) / seconds, failures, bytes))
client.shutdown()
