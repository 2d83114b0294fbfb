package web

func (l *ledgerSite) evaluatorRoutes() {}
