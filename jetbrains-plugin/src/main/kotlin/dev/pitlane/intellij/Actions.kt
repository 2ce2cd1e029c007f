package dev.pitlane.intellij

import com.intellij.openapi.actionSystem.ActionGroup
import com.intellij.openapi.actionSystem.ActionUpdateThread
import com.intellij.openapi.actionSystem.AnAction
import com.intellij.openapi.actionSystem.AnActionEvent
import com.intellij.openapi.actionSystem.DataKey
import com.intellij.openapi.application.ApplicationManager
import com.intellij.openapi.project.DumbAwareAction
import com.intellij.openapi.ui.popup.JBPopupFactory
import dev.pitlane.core.Port
import dev.pitlane.core.PortText
import dev.pitlane.core.Workspace
import dev.pitlane.core.WorkspaceMenu
import dev.pitlane.core.WorkspaceSearch

/** Data keys the tool window provides to its actions. */
object PitlaneKeys {
    /** The workspace selected in the tool window (or the one a port row belongs to). */
    val WORKSPACE: DataKey<Workspace> = DataKey.create("Pitlane.Workspace")

    /** The port row selected in the tool window. */
    val PORT: DataKey<Port> = DataKey.create("Pitlane.Port")
}

private val session get() = PitlaneService.get().session

/** Find Action / Tools menu: the Create Workspace dialog, then a background create (asking for trust if needed). */
class CreateWorkspaceAction : DumbAwareAction() {
    override fun getActionUpdateThread() = ActionUpdateThread.BGT

    override fun actionPerformed(e: AnActionEvent) {
        val project = e.project
        val dialog = CreateWorkspaceDialog(project)
        if (!dialog.showAndGet()) return
        val params = dialog.params(Background.ide())
        Background.run(project, "Creating workspace", { progress -> session.createWithTrust(params, Consent.trust(project), progress) }) { result ->
            PitlaneService.notify(project, "Workspace ${result.workspace.name} is running.")
            val open = result.open
            if (open != null) {
                Background.open(project, open)
            } else {
                Background.run(project, "Opening ${result.workspace.name}", { session.open(result.workspace.name, Background.ide()) }) {
                    Background.open(project, it)
                }
            }
        }
    }
}

class RefreshAction : DumbAwareAction() {
    override fun getActionUpdateThread() = ActionUpdateThread.BGT

    override fun actionPerformed(e: AnActionEvent) {
        ApplicationManager.getApplication().executeOnPooledThread { session.refresh() }
    }
}

/**
 * The menu of the selected row: for a workspace, exactly the actions the
 * bridge lists for it ([WorkspaceMenu]); for a port, what [PortText] offers.
 * Nothing here looks at the workspace's state.
 */
class WorkspaceActionsGroup : ActionGroup() {
    override fun getActionUpdateThread() = ActionUpdateThread.BGT

    override fun getChildren(e: AnActionEvent?): Array<AnAction> {
        val ws = e?.getData(PitlaneKeys.WORKSPACE) ?: return AnAction.EMPTY_ARRAY
        val port = e.getData(PitlaneKeys.PORT)
        return if (port != null) portActions(ws, port) else workspaceActions(ws)
    }

    companion object {
        fun workspaceActions(ws: Workspace): Array<AnAction> =
            WorkspaceMenu.items(ws).map { item ->
                object : DumbAwareAction(item.label, item.description, null) {
                    override fun getActionUpdateThread() = ActionUpdateThread.BGT

                    override fun actionPerformed(e: AnActionEvent) = Dispatch.perform(e.project, ws, item.action)
                }
            }.toTypedArray()

        fun portActions(ws: Workspace, port: Port): Array<AnAction> =
            PortText.actions(port).map { label ->
                object : DumbAwareAction(label) {
                    override fun getActionUpdateThread() = ActionUpdateThread.BGT

                    override fun actionPerformed(e: AnActionEvent) = Dispatch.port(e.project, ws, port, label)
                }
            }.toTypedArray()
    }
}

/** "Go to Workspace…": a searchable list of every workspace, then that workspace's menu. */
class GoToWorkspaceAction : DumbAwareAction() {
    override fun getActionUpdateThread() = ActionUpdateThread.BGT

    override fun actionPerformed(e: AnActionEvent) {
        val project = e.project
        // Most recently used first; typing filters the rows as the tool window's search does.
        val all = WorkspaceSearch.filter(session.model.snapshot(), "")
        if (all.isEmpty()) {
            PitlaneService.notify(project, "There are no Pitlane workspaces yet: use Pitlane: Create Workspace.")
            ApplicationManager.getApplication().executeOnPooledThread { session.refresh() }
            return
        }
        JBPopupFactory.getInstance().createPopupChooserBuilder(all)
            .setTitle("Go to Workspace")
            .setNamerForFiltering { WorkspaceSearch.row(it) + " " + it.source.url }
            .setRenderer(WorkspaceRenderer.list())
            .setItemChosenCallback { ws ->
                val current = session.model[ws.name] ?: ws
                val group = object : ActionGroup(current.name, true) {
                    override fun getChildren(e: AnActionEvent?) = WorkspaceActionsGroup.workspaceActions(current)
                }
                JBPopupFactory.getInstance()
                    .createActionGroupPopup(current.name, group, e.dataContext, JBPopupFactory.ActionSelectionAid.SPEEDSEARCH, true)
                    .showInFocusCenter()
            }
            .createPopup()
            .showInFocusCenter()
    }
}
