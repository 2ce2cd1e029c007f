package dev.pitlane.core

import java.net.InetAddress
import java.net.ServerSocket
import java.net.Socket

/**
 * A [BridgeClient] connected over a loopback socket to a [Wire] the test
 * drives as the server. Sockets, unlike piped streams, do not care which
 * thread reads or writes.
 */
class Loopback(tap: MessageTap? = null) : AutoCloseable {
    private val serverSocket: Socket
    private val clientSocket: Socket
    val wire: Wire
    val client: BridgeClient

    init {
        ServerSocket(0, 1, InetAddress.getLoopbackAddress()).use { ss ->
            clientSocket = Socket(InetAddress.getLoopbackAddress(), ss.localPort)
            serverSocket = ss.accept()
        }
        wire = Wire(serverSocket.getInputStream(), serverSocket.getOutputStream())
        client = BridgeClient.connect(clientSocket.getInputStream(), clientSocket.getOutputStream(), tap)
    }

    /** Closes the server's side: the client sees the end of its input. */
    fun hangUp() = serverSocket.close()

    override fun close() {
        client.close()
        serverSocket.close()
        clientSocket.close()
    }
}
