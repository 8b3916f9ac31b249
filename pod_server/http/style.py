"""The one stylesheet of every HTML page the server makes (the identity provider's and
the pod's own pages, ``pod_server.ui``), inline so the pages' Content-Security-Policy
needs no style source.

Colours meet WCAG AA contrast on white (text #1a1a1a, links #0b57a4, muted #4a4a4a).
"""

STYLESHEET = """
body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;
line-height:1.5;color:#1a1a1a;background:#fff}
body.wide{max-width:64rem}
a{color:#0b57a4}
h1,header.site,.note{overflow-wrap:anywhere}
label{display:block;margin-top:1rem;font-weight:600}
input[type=email],input[type=password],input[type=text]{width:100%;padding:.5rem;
font-size:1rem;box-sizing:border-box}
button,.button{margin-top:1.25rem;margin-right:.5rem;padding:.55rem 1.2rem;font-size:1rem}
.alert{border-left:4px solid #b00020;padding:.5rem 1rem;background:#fdecee}
.note{color:#4a4a4a;font-size:.95rem}
fieldset{margin-top:1rem}
:focus{outline:3px solid #1a5fb4;outline-offset:2px}
.skip{position:absolute;left:-999px}
.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem;z-index:1}
header.site{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:baseline;
justify-content:space-between;border-bottom:1px solid #ccc;padding-bottom:.5rem}
header.site .tools{display:flex;flex-wrap:wrap;gap:.25rem 1.5rem;justify-content:flex-end}
header.site nav ul,nav.crumbs ol{list-style:none;margin:0;padding:0;display:flex;
flex-wrap:wrap;gap:.25rem .75rem}
nav.crumbs li+li::before{content:"/";margin-right:.75rem;color:#4a4a4a}
table{border-collapse:collapse;width:100%;margin-top:1rem}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ddd;vertical-align:top;
overflow-wrap:anywhere}
th{background:#f3f3f3}
caption{text-align:left;caption-side:top;padding:.25rem 0}
.done{border-left:4px solid #1a7f37;padding:.5rem 1rem;background:#eaf6ec}
td.num{text-align:right;white-space:nowrap}
.actions{display:flex;flex-wrap:wrap;gap:1rem 2rem;margin-top:1.5rem}
.actions form{flex:1 1 14rem}
.preview img{max-width:100%;min-width:8rem;height:auto;image-rendering:pixelated}
.preview iframe{width:100%;height:70vh;border:1px solid #ccc}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f6f6;padding:.75rem}
meter{width:100%;max-width:20rem}
progress{width:100%}
@media (max-width:40rem){th.opt,td.opt{display:none}}
.choice{font-weight:400;margin-top:.6rem}
.needs{list-style:none;padding-left:1.6rem;margin:.25rem 0}
.needs li{margin:.4rem 0}
.needs label{font-weight:400;margin:0}
.tag{font-size:.8rem;padding:0 .35rem;border-radius:3px;background:#e8e8e8}
.warn{background:#b35900;color:#fff;font-weight:600}
.full{border-left:4px solid #b35900;padding:.5rem 1rem;background:#fff4e5}
input[type=url],select{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
td form button{margin:0;white-space:nowrap}
table.sharing td{overflow-wrap:normal}
table.sharing td:first-child{overflow-wrap:anywhere}
@media (max-width:40rem){table.sharing thead{position:absolute;left:-999px}
table.sharing tr,table.sharing td{display:block}table.sharing td{border:0;padding:.1rem 0}
table.sharing tr{border-bottom:1px solid #ddd;padding:.5rem 0}}
.card .photo.initial{display:flex;align-items:center;justify-content:center;font-size:3rem;
font-weight:600;color:#fff;background:#0b57a4}
section li{overflow-wrap:anywhere}
form.share{margin-top:1.5rem;padding:0 1rem 1rem;border:1px solid #ddd}
form.rename{max-width:24rem;margin-top:1.5rem}
nav.crumbs{margin-top:.5rem}
.card{display:flex;flex-wrap:wrap;gap:1rem 1.5rem;align-items:center}
.card .photo{width:8rem;height:8rem;object-fit:cover;border-radius:50%;background:#eee}
.card h2{margin:.25rem 0}
dl.links{display:grid;grid-template-columns:minmax(8rem,auto) 1fr;gap:.35rem 1rem}
dl.links dt{font-weight:600}
dl.links dd{margin:0;overflow-wrap:anywhere}
@media (max-width:40rem){dl.links{grid-template-columns:1fr}dl.links dd{margin-bottom:.5rem}}
.request{border:1px solid #ccc;border-radius:4px;padding:0 1rem 1rem;margin-top:1rem}
.request dt,.facts dt{font-weight:600;margin-top:.4rem}
.request dd,.facts dd{margin-left:0}
dd ul{margin:0;padding-left:1.2rem}
input[type=date]{display:block;padding:.4rem;font-size:1rem}
.filters fieldset{display:flex;flex-wrap:wrap;gap:0 1.25rem;align-items:flex-end}
.filters .field{flex:1 1 12rem}
.filters .wide{flex:2 1 20rem}
td.when{white-space:nowrap;width:11rem}
@media (max-width:40rem){td.when{white-space:normal;width:6rem}}
tr.refused td:first-child{border-left:4px solid #b00020}
tr.ok td:first-child{border-left:4px solid #1a7f37}
.pods li{margin:.3rem 0}
.pods form button{margin-top:.25rem}
"""
