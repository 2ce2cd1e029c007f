package dev.pitlane.intellij

import com.intellij.ide.BrowserUtil
import com.intellij.openapi.application.ApplicationManager
import com.intellij.openapi.application.ModalityState
import com.intellij.openapi.project.Project
import com.intellij.openapi.ui.InputValidator
import com.intellij.openapi.ui.Messages
import dev.pitlane.core.Actions
import dev.pitlane.core.ConsentText
import dev.pitlane.core.Port
import dev.pitlane.core.PortText
import dev.pitlane.core.TrustPrompt
import dev.pitlane.core.UnsavedWorkPrompt
import dev.pitlane.core.Workspace
import java.util.concurrent.CompletableFuture

/** Carries out a menu entry: one of [Actions] for a workspace, or a port row's entry. */
object Dispatch {
    private val session get() = PitlaneService.get().session

    fun perform(project: Project?, ws: Workspace, action: String) {
        val name = ws.name
        when (action) {
            Actions.OPEN -> Background.run(project, "Opening $name", { session.open(name, Background.ide()) }) { Background.open(project, it) }
            Actions.START -> Background.run(project, "Starting $name", { session.startWithTrust(name, Consent.trust(project), it) })
            Actions.STOP -> Background.run(project, "Stopping $name", { session.stop(name) })
            Actions.REBUILD -> Background.run(project, "Rebuilding $name", { session.rebuildWithTrust(name, Consent.trust(project), it) })
            Actions.DELETE -> delete(project, ws)
            Actions.LOGS -> if (project != null) LogView.show(project, name)
            Actions.PORTS -> forwardPort(project, ws)
            Actions.CANCEL -> if (!session.cancel(name)) PitlaneService.notify(project, "Nothing to cancel for $name in this IDE.")
        }
    }

    fun port(project: Project?, ws: Workspace, port: Port, entry: String) {
        when (entry) {
            PortText.OPEN_IN_BROWSER -> port.forwarded?.url?.let { BrowserUtil.browse(it) }
            PortText.STOP_FORWARDING -> Background.run(project, "Stopping the forward of ${port.port}", { session.stopForwarding(ws.name, port.port) })
            PortText.FORWARD -> forward(project, ws.name, port.port)
        }
    }

    private fun delete(project: Project?, ws: Workspace) {
        val answer = Messages.showYesNoDialog(
            project,
            "Delete workspace ${ws.name}? Its container, image and Pitlane's data for it are removed; " +
                "files in a local source folder are kept.",
            "Delete Workspace",
            Messages.getWarningIcon(),
        )
        if (answer != Messages.YES) return
        Background.run(project, "Deleting ${ws.name}", { session.deleteAsking(ws.name, Consent.unsaved(project, ws.name)) })
    }

    private fun forwardPort(project: Project?, ws: Workspace) {
        val input = Messages.showInputDialog(
            project,
            "Port inside ${ws.name} to forward to 127.0.0.1 on this machine:",
            "Forward Port",
            null,
            "",
            object : InputValidator {
                override fun checkInput(inputString: String?) = PortText.inputError(inputString.orEmpty()) == null

                override fun canClose(inputString: String?) = checkInput(inputString)
            },
        ) ?: return
        forward(project, ws.name, PortText.parse(input) ?: return)
    }

    private fun forward(project: Project?, name: String, port: Int) {
        Background.run(project, "Forwarding port $port of $name", { session.forwardPort(name, port) }) { r ->
            PitlaneService.notify(project, PortText.forwarded(name, r))
        }
    }
}

/**
 * The modal questions behind error 1010 (trust) and 1011 (unsaved work).
 * The session asks them from the bridge's reader thread; they show on the
 * UI thread and answer through the future.
 */
object Consent {
    fun trust(project: Project?) = TrustPrompt { request, _ ->
        ask(project, ConsentText.trust(request), ConsentText.TRUST_TITLE, ConsentText.TRUST_YES)
    }

    fun unsaved(project: Project?, name: String) = UnsavedWorkPrompt { work, _ ->
        ask(project, ConsentText.unsaved(name, work), ConsentText.UNSAVED_TITLE, ConsentText.UNSAVED_YES)
    }

    private fun ask(project: Project?, text: String, title: String, yes: String): CompletableFuture<Boolean> {
        val answer = CompletableFuture<Boolean>()
        ApplicationManager.getApplication().invokeLater({
            // Cancel is the default: only an explicit click goes on.
            val choice = Messages.showDialog(project, text, title, arrayOf(yes, ConsentText.CANCEL), 1, Messages.getWarningIcon())
            answer.complete(choice == 0)
        }, ModalityState.nonModal())
        return answer
    }
}
